// dkim_bench.cpp — how close the DKIM code runs to the machine's ceiling.
// Measures relaxed/simple body canonicalisation + SHA-256 against raw
// EVP SHA-256 over the same buffer, and a whole signature (header
// canonicalisation, tag assembly, folding, signing) against a raw EVP sign of
// the same bytes, then prints each pair as a ratio. See bench/README.md.
#include <benchmark/benchmark.h>

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>

#include "common/body_hasher.h"
#include "common/dkim_key.h"
#include "common/dkim_signer.h"

namespace {

using namespace tenantmail;

constexpr size_t body_size = 4 << 20;  // hashed in chunks, as a milter receives it

// A body like real outbound mail: prose lines with some double spaces and
// trailing blanks, then base64 attachment lines.
std::string make_body() {
    std::mt19937 rng(42);
    static const char* words[] = {"tenant", "mail", "delivery", "the", "of", "and", "careers", "fair",
                                  "university", "invitation", "to", "our", "students", "2026"};
    std::string body;
    body.reserve(body_size + 256);
    while (body.size() < body_size / 2) {
        std::string line;
        while (line.size() < 68) {
            line += words[rng() % std::size(words)];
            line += (rng() % 11 == 0) ? "  " : " ";
        }
        if (rng() % 5 == 0) line += "\t ";
        body += line;
        body += "\r\n";
    }
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    while (body.size() < body_size) {
        for (int i = 0; i < 76; ++i) body += alphabet[rng() % 64];
        body += "\r\n";
    }
    return body;
}

const std::string& body() {
    static const std::string text = make_body();
    return text;
}

void feed_chunks(benchmark::State& state, const std::function<void(std::string_view)>& update) {
    const size_t chunk = static_cast<size_t>(state.range(0));
    const std::string& text = body();
    for (size_t offset = 0; offset < text.size(); offset += chunk) {
        update(std::string_view(text).substr(offset, chunk));
    }
}

void BM_RawSha256(benchmark::State& state) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    unsigned char digest[EVP_MAX_MD_SIZE];
    for (auto _ : state) {
        EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
        feed_chunks(state, [&](std::string_view c) { EVP_DigestUpdate(ctx.get(), c.data(), c.size()); });
        EVP_DigestFinal_ex(ctx.get(), digest, nullptr);
        benchmark::DoNotOptimize(digest);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body().size()));
}

void body_hash(benchmark::State& state, Canon canon) {
    for (auto _ : state) {
        BodyHasher hasher(canon);
        feed_chunks(state, [&](std::string_view c) { hasher.update(c); });
        auto digest = hasher.finish();
        benchmark::DoNotOptimize(digest);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body().size()));
}
void BM_RelaxedBodyHash(benchmark::State& state) { body_hash(state, Canon::relaxed); }
void BM_SimpleBodyHash(benchmark::State& state) { body_hash(state, Canon::simple); }

BENCHMARK(BM_RawSha256)->Arg(16 << 10)->Arg(64 << 10);
BENCHMARK(BM_RelaxedBodyHash)->Arg(16 << 10)->Arg(64 << 10);
BENCHMARK(BM_SimpleBodyHash)->Arg(16 << 10)->Arg(64 << 10);

// --- signing -------------------------------------------------------------

// The signature step alone: a typical header block and a one-line body
// (body hashing has its own figures above), against a raw EVP sign of a
// header block of the same size.
const std::string message_headers = [] {
    std::string m =
        "From: \"Careers Service\" <careers@careers.uni.example>\r\n"
        "To: student@example.org\r\n"
        "Subject: Careers fair next week\r\n"
        "Date: Mon, 23 Nov 2026 09:00:00 +0000\r\n"
        "Message-ID: <bench.1@careers.uni.example>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n";
    m += "Hello\r\n";
    return m;
}();

const DkimKey& bench_key(KeyAlgorithm algorithm) {
    static std::map<KeyAlgorithm, DkimKey> keys;
    auto it = keys.find(algorithm);
    if (it == keys.end()) {
        auto key = DkimKey::generate(algorithm);
        if (!key) {
            std::fprintf(stderr, "dkim_bench: %s\n", key.error().c_str());
            std::exit(1);
        }
        it = keys.emplace(algorithm, std::move(key).value()).first;
    }
    return it->second;
}

// Raw cost: what OpenSSL needs for one DKIM signature of a header block of
// the size our signer produces (EVP_DigestSign with a fresh context, as any
// thread-safe signer must).
void raw_sign(benchmark::State& state, KeyAlgorithm algorithm) {
    const DkimKey& key = bench_key(algorithm);
    const std::string data(600, 'h');
    unsigned char digest[32];
    std::string signature(1024, '\0');
    for (auto _ : state) {
        std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
        size_t length = signature.size();
        if (algorithm == KeyAlgorithm::rsa) {
            EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.native());
            EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                           reinterpret_cast<const unsigned char*>(data.data()), data.size());
        } else {
            // RFC 8463: Ed25519 signs the SHA-256 of the data.
            EVP_Digest(data.data(), data.size(), digest, nullptr, EVP_sha256(), nullptr);
            EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.native());
            EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, digest,
                           sizeof digest);
        }
        benchmark::DoNotOptimize(signature.data());
    }
    state.SetItemsProcessed(state.iterations());
}

void dkim_sign(benchmark::State& state, KeyAlgorithm algorithm) {
    SignOptions options;
    options.domain = "careers.uni.example";
    options.keys.push_back(SignerKey{&bench_key(algorithm), "bench"});
    options.timestamp = 1795400000;
    for (auto _ : state) {
        auto signatures = sign_message(message_headers, options);
        if (!signatures) state.SkipWithError(signatures.error().c_str());
        benchmark::DoNotOptimize(signatures);
    }
    state.SetItemsProcessed(state.iterations());
}

void BM_RawRsaSign(benchmark::State& state) { raw_sign(state, KeyAlgorithm::rsa); }
void BM_DkimRsaSign(benchmark::State& state) { dkim_sign(state, KeyAlgorithm::rsa); }
void BM_RawEd25519Sign(benchmark::State& state) { raw_sign(state, KeyAlgorithm::ed25519); }
void BM_DkimEd25519Sign(benchmark::State& state) { dkim_sign(state, KeyAlgorithm::ed25519); }

BENCHMARK(BM_RawRsaSign);
BENCHMARK(BM_DkimRsaSign);
BENCHMARK(BM_RawEd25519Sign);
BENCHMARK(BM_DkimEd25519Sign);

// Prints the usual table and remembers each run's rate for the ratio lines.
class RatioReporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        // With --benchmark_repetitions the median is the figure to compare;
        // a single run reports only its iteration.
        for (const Run& run : runs) {
            if (run.error_occurred) continue;
            const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
            if (run.run_type != Run::RT_Iteration && !median) continue;
            const std::string name = run.run_name.str();
            if (!median && medians_.count(name)) continue;
            if (median) medians_.insert(name);
            const auto bytes = run.counters.find("bytes_per_second");
            const auto items = run.counters.find("items_per_second");
            if (bytes != run.counters.end()) rates_[name] = bytes->second;
            if (items != run.counters.end()) rates_[name] = items->second;
        }
    }

    void print_ratio(const char* label, const std::string& ours, const std::string& raw,
                     const char* unit, double scale, const char* goal) const {
        const auto a = rates_.find(ours);
        const auto b = rates_.find(raw);
        if (a == rates_.end() || b == rates_.end()) return;
        std::printf("%-34s %10.1f %s vs raw %10.1f %s = %5.1f%%   (goal %s)\n", label, a->second / scale, unit,
                    b->second / scale, unit, 100.0 * a->second / b->second, goal);
    }

private:
    std::map<std::string, double> rates_;
    std::set<std::string> medians_;
};

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    RatioReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    std::printf("\nratios (ours / raw EVP on this machine, same run):\n");
    constexpr double mb = 1024.0 * 1024.0;
    for (const char* chunk : {"16384", "65536"}) {
        const std::string suffix = std::string("/") + chunk;
        const std::string label_r = std::string("relaxed body hash, ") + chunk + " B chunks";
        const std::string label_s = std::string("simple body hash, ") + chunk + " B chunks";
        reporter.print_ratio(label_r.c_str(), "BM_RelaxedBodyHash" + suffix, "BM_RawSha256" + suffix, "MB/s", mb,
                             ">= 70%");
        reporter.print_ratio(label_s.c_str(), "BM_SimpleBodyHash" + suffix, "BM_RawSha256" + suffix, "MB/s", mb,
                             ">= 70%");
    }
    reporter.print_ratio("rsa-sha256 signature, sign/s", "BM_DkimRsaSign", "BM_RawRsaSign", "/s", 1.0,
                         ">= 95%");
    reporter.print_ratio("ed25519-sha256 signature, sign/s", "BM_DkimEd25519Sign", "BM_RawEd25519Sign", "/s",
                         1.0, ">= 95%");
    benchmark::Shutdown();
    return 0;
}
