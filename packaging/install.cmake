# install.cmake — what `cmake --install` (and so the Debian package) puts
# beside the programs, whose install(TARGETS) rules live in their own
# CMakeLists: the example configuration, man pages, systemd units and the
# Postfix/Sendmail snippets. Included from the marked block at the end of the
# top-level CMakeLists.txt.
#
# Man pages are generated at build time from the sources they document, so
# they cannot drift: section 8 by help2man from each program's --help and
# --version output (prose from packaging/man/*.h2m; tenantmailctl's per-command
# options from `tenantmailctl COMMAND --help`), section 5 by
# packaging/generate.py from the comments of conf/tenantmail.conf and
# conf/tenants.conf. Needs help2man and python3 (TM_MANPAGES=AUTO: only when
# help2man is found; the Debian build sets ON).

include(GNUInstallDirs)

set(TM_MANPAGES AUTO CACHE STRING "Generate and install man pages with help2man: ON, OFF or AUTO")
set_property(CACHE TM_MANPAGES PROPERTY STRINGS ON OFF AUTO)
set(TM_SYSTEMD_UNITDIR "lib/systemd/system" CACHE STRING
    "Where the systemd units go (a relative path is under the prefix)")

find_package(Python3 REQUIRED COMPONENTS Interpreter)
set(tm_pkg_src ${PROJECT_SOURCE_DIR}/packaging)
set(tm_pkg_out ${PROJECT_BINARY_DIR}/packaging)
set(tm_generate ${Python3_EXECUTABLE} ${tm_pkg_src}/generate.py)
set(tm_confdir ${CMAKE_INSTALL_FULL_SYSCONFDIR}/tenantmail)
file(MAKE_DIRECTORY ${tm_pkg_out}/man)

# tenants.conf as installed: the examples commented out, so a fresh install
# defines no tenant and --check-config passes before any key exists.
add_custom_command(OUTPUT ${tm_pkg_out}/tenants.conf
  COMMAND ${tm_generate} fresh-tenants ${PROJECT_SOURCE_DIR}/conf/tenants.conf ${tm_pkg_out}/tenants.conf
  DEPENDS ${PROJECT_SOURCE_DIR}/conf/tenants.conf ${tm_pkg_src}/generate.py VERBATIM)
set(tm_generated ${tm_pkg_out}/tenants.conf)

# systemd units, with the installed paths filled in.
set(TM_SBINDIR ${CMAKE_INSTALL_FULL_SBINDIR})
set(TM_CONFDIR ${tm_confdir})
foreach(unit tenantmail-milter tenantmail-policyd tenantmail-maillog tenantmail-webhookd tenantmail-trackd)
  configure_file(${tm_pkg_src}/systemd/${unit}.service.in ${tm_pkg_out}/${unit}.service @ONLY)
  install(FILES ${tm_pkg_out}/${unit}.service DESTINATION ${TM_SYSTEMD_UNITDIR})
endforeach()

# Man pages.
find_program(TM_HELP2MAN help2man)
if(TM_MANPAGES STREQUAL "AUTO")
  set(tm_want_man ${TM_HELP2MAN})
elseif(TM_MANPAGES)
  set(tm_want_man ON)
  if(NOT TM_HELP2MAN)
    message(FATAL_ERROR "TM_MANPAGES=ON but help2man is not installed")
  endif()
else()
  set(tm_want_man OFF)
endif()
if(tm_want_man)
  # -c /dev/null: the output must not depend on (or fail because of) an
  # /etc/tenantmail/tenantmail.conf on the build machine.
  set(tm_h2m ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=0 ${TM_HELP2MAN}
      --no-info --section=8 --source=tenantmail "--manual=System Manager's Manual"
      "--help-option=--help -c /dev/null" "--version-option=--version -c /dev/null")
  set(tm_h2m_programs tenantmail-milter tenantmail-policyd tenantmail-bounce tenantmail-maillog
      tenantmail-webhookd tenantmail-trackd)
  foreach(prog ${tm_h2m_programs})
    add_custom_command(OUTPUT ${tm_pkg_out}/man/${prog}.8
      COMMAND ${tm_h2m} --include=${tm_pkg_src}/man/${prog}.h2m --output=${tm_pkg_out}/man/${prog}.8
              $<TARGET_FILE:${prog}>
      DEPENDS ${prog} ${tm_pkg_src}/man/${prog}.h2m VERBATIM)
    list(APPEND tm_generated ${tm_pkg_out}/man/${prog}.8)
  endforeach()
  add_custom_command(OUTPUT ${tm_pkg_out}/man/tenantmailctl.8
    COMMAND ${tm_generate} ctl-commands $<TARGET_FILE:tenantmailctl> ${tm_pkg_src}/man/tenantmailctl.h2m
            ${tm_pkg_out}/man/tenantmailctl.h2m
    COMMAND ${tm_h2m} --include=${tm_pkg_out}/man/tenantmailctl.h2m --output=${tm_pkg_out}/man/tenantmailctl.8
            $<TARGET_FILE:tenantmailctl>
    DEPENDS tenantmailctl ${tm_pkg_src}/man/tenantmailctl.h2m ${tm_pkg_src}/generate.py VERBATIM)
  list(APPEND tm_generated ${tm_pkg_out}/man/tenantmailctl.8)

  list(TRANSFORM tm_h2m_programs APPEND "(8)" OUTPUT_VARIABLE tm_see_also_5)
  list(APPEND tm_see_also_5 "tenantmailctl(8)")
  list(JOIN tm_see_also_5 ", " tm_see_also_5)
  add_custom_command(OUTPUT ${tm_pkg_out}/man/tenantmail.conf.5
    COMMAND ${tm_generate} conf-man ${PROJECT_SOURCE_DIR}/conf/tenantmail.conf ${tm_pkg_out}/man/tenantmail.conf.5
            --name tenantmail.conf --summary "configuration of the tenantmail daemons and tools"
            --path ${tm_confdir}/tenantmail.conf --version ${PROJECT_VERSION}
            --see-also "tenants.conf(5), ${tm_see_also_5}"
    DEPENDS ${PROJECT_SOURCE_DIR}/conf/tenantmail.conf ${tm_pkg_src}/generate.py VERBATIM)
  add_custom_command(OUTPUT ${tm_pkg_out}/man/tenants.conf.5
    COMMAND ${tm_generate} conf-man ${PROJECT_SOURCE_DIR}/conf/tenants.conf ${tm_pkg_out}/man/tenants.conf.5
            --name tenants.conf --summary "the tenants tenantmail signs and rate-limits mail for"
            --path ${tm_confdir}/tenants.conf --version ${PROJECT_VERSION} --example
            --see-also "tenantmail.conf(5), ${tm_see_also_5}"
    DEPENDS ${PROJECT_SOURCE_DIR}/conf/tenants.conf ${tm_pkg_src}/generate.py VERBATIM)
  list(APPEND tm_generated ${tm_pkg_out}/man/tenantmail.conf.5 ${tm_pkg_out}/man/tenants.conf.5)

  list(TRANSFORM tm_h2m_programs REPLACE "(.+)" "${tm_pkg_out}/man/\\1.8" OUTPUT_VARIABLE tm_h2m_pages)
  install(FILES ${tm_h2m_pages} ${tm_pkg_out}/man/tenantmailctl.8
          DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
  install(FILES ${tm_pkg_out}/man/tenantmail.conf.5 ${tm_pkg_out}/man/tenants.conf.5
          DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
endif()
add_custom_target(tm_packaging_files ALL DEPENDS ${tm_generated})

# Configuration (conffiles in the Debian package: everything under /etc is).
install(FILES ${PROJECT_SOURCE_DIR}/conf/tenantmail.conf ${tm_pkg_out}/tenants.conf
        DESTINATION ${tm_confdir})
# The lines an administrator pastes into Postfix or Sendmail, and the nginx
# server for tenantmail-trackd; the package's postinst says where they are.
install(FILES ${PROJECT_SOURCE_DIR}/conf/postfix-main.cf ${PROJECT_SOURCE_DIR}/conf/postfix-master.cf
              ${PROJECT_SOURCE_DIR}/conf/sendmail.mc ${PROJECT_SOURCE_DIR}/conf/nginx-trackd.conf
        DESTINATION ${CMAKE_INSTALL_DATADIR}/tenantmail)
# Prometheus alert rules and a Grafana dashboard for the daemons' metrics.
install(FILES ${PROJECT_SOURCE_DIR}/conf/prometheus/tenantmail-alerts.yml
              ${PROJECT_SOURCE_DIR}/conf/grafana/tenantmail-dashboard.json
        DESTINATION ${CMAKE_INSTALL_DATADIR}/tenantmail)
