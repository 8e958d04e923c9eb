"""mailstack: start real mail components on loopback for tenantmail's tests.

One import for scripts that want the whole stack (`import mailstack as ms`):
this module only re-exports the modules that do the work, one per component,
all on one base (managed_process.ManagedProcess):

  * net                   LOOPBACK, free_port, port_open, wait_until, workdir,
                          MailstackError
  * commands              clean environment, run(), run_on_tty()
  * managed_process       stop by PID, watchdog, stop_all() at exit
  * sink_message          SinkMessage, parse_sink_file
  * smtp_sink             SmtpSink: Postfix's smtp-sink as the remote side
  * scripted_smtp_server  ScriptedSmtpServer: per-recipient SMTP answers
  * redis_server          RedisServer: redis-server without persistence
  * private_postfix       PrivatePostfix: `postfix -c DIR` with submission,
                          STARTTLS and SASL (what that needs on Debian is in
                          its header)
  * smtp_clients          send_with_swaks(), send_smtp(), smtp_load(),
                          smtp_source()

Use Debian's /usr/bin/python3 (standard library only).
"""

from __future__ import annotations

from commands import clean_env, is_root, postfix_ids, run, run_on_tty
from managed_process import (ManagedComponent, ManagedProcess, Watchdog, group_members,
                             managed_workdir, pid_alive, register, stop_all, stop_child,
                             unregister)
from net import LOOPBACK, MailstackError, free_port, port_open, wait_port, wait_until, workdir
from private_postfix import (OPENSSL, POSTCONF, POSTFIX, POSTFIX_META_FILES, POSTQUEUE,
                             SASLPASSWD2, PrivatePostfix, service_address)
from redis_server import REDIS_SERVER, RedisServer, resp_read
from scripted_smtp_server import Reply, ScriptedSmtpServer
from sink_message import SinkMessage, parse_sink_file, split_addr_args
from smtp_clients import (SMTP_SOURCE, SWAKS, LoadResult, SwaksResult, insecure_tls,
                          send_smtp, send_with_swaks, smtp_load, smtp_source)
from smtp_sink import SMTP_SINK, SmtpSink

# The names these helpers had when they were private to this module; scripts
# and benchmarks outside tests/ still use them.
_clean_env = clean_env
_is_root = is_root
_postfix_ids = postfix_ids
_run = run
_register = register
_unregister = unregister
_pid_alive = pid_alive
_group_members = group_members
_stop_child = stop_child
_Watchdog = Watchdog
_wait_port = wait_port
_service_address = service_address
_resp_read = resp_read
_insecure_tls = insecure_tls
_split_addr_args = split_addr_args

__all__ = [
    "LOOPBACK", "SMTP_SINK", "SMTP_SOURCE", "POSTFIX", "POSTCONF", "POSTQUEUE", "SASLPASSWD2",
    "SWAKS", "OPENSSL", "REDIS_SERVER", "POSTFIX_META_FILES", "MailstackError",
    "ManagedComponent", "ManagedProcess", "stop_all", "free_port", "wait_until", "port_open",
    "run_on_tty", "workdir", "managed_workdir", "SinkMessage", "parse_sink_file", "SmtpSink", "Reply",
    "ScriptedSmtpServer", "RedisServer", "PrivatePostfix", "SwaksResult", "send_with_swaks",
    "send_smtp", "LoadResult", "smtp_load", "smtp_source",
]
