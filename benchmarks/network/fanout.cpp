// Fan-out benchmark: N WebSocket clients of a running incsync-pos-server,
// M admin PATCHes of a (global) product, each notified to every client.
//
// Measures, for the server process (read from /proc/<pid>):
//   - server CPU time per delivered notification (utime + stime over the
//     PATCH phase, divided by N * M),
//   - server memory per idle WebSocket connection (VmRSS after connecting N
//     clients minus before, divided by N),
// and, at the clients, the latency from just before a PATCH is sent to the
// arrival of its notification at each client (p50 / p99 / max).
//
// Two phases: "paced" sends one PATCH, waits until every client has its
// notification, then sends the next; "burst" sends one PATCH on each of B
// admin connections at once, so notifications queue up per connection and
// leave in gather writes.
//
// The load generator is plain POSIX (blocking connects, one epoll reader
// thread) so that it costs little and adds no library of ours to measure.
//
// Usage: bench_fanout SERVER_BINARY [clients=1000] [patches=200] [burst=200] [SERVER_ARGS...]
// With INCSYNC_BENCH_DEFLATE set, clients offer permessage-deflate.
// (SERVER_ARGS are passed on to the server, e.g. --threads 2.)
// Prints one JSON object per phase. Loopback only.
//
// Several instances: INCSYNC_BENCH_INSTANCES=K (default 1) spawns K servers
// with the same SERVER_ARGS (for K > 1 a shared store and a bus: --db
// postgresql://... --bus redis://...|postgres), one after the other, and waits
// until each one's bus link is up (`incsync_bus_connected{...} 1` on /metrics)
// when SERVER_ARGS name a --bus. Client i connects to instance i % K; every
// PATCH goes to instance 0. Server CPU and RSS are summed over the instances.
// With K > 1 the paced phase also reports latency split into the clients of
// instance 0 ("local") and the others' ("bus": through the bus), and both
// phases each instance's CPU in ms. INCSYNC_BENCH_SERVICE_PIDS=PID,PID,...
// (e.g. the postmaster and redis-server) adds the CPU of those processes and
// their children per PATCH ("service_cpu_us_per_patch"). With neither
// variable set, the output is as it always was.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using clock_type = std::chrono::steady_clock;

std::vector<pid_t> running_servers; // stopped by die(): std::exit runs no destructors

[[noreturn]] void die(const std::string& what)
{
    std::fprintf(stderr, "bench_fanout: %s: %s\n", what.c_str(), std::strerror(errno));
    for (const pid_t pid : running_servers) kill(pid, SIGTERM);
    std::exit(1);
}

// Reads /proc/<pid>/stat: field 4 (ppid) and utime + stime in microseconds.
// False if the process is gone.
bool read_stat(pid_t pid, pid_t& ppid, double& cpu_us)
{
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string s((std::istreambuf_iterator<char>(f)), {});
    if (s.empty()) return false;
    std::istringstream in(s.substr(s.rfind(')') + 2));
    std::string field;
    unsigned long utime = 0, stime = 0;
    for (int i = 3; i <= 15; ++i) {
        in >> field;
        if (i == 4) ppid = std::stoi(field);
        if (i == 14) utime = std::stoul(field);
        if (i == 15) stime = std::stoul(field);
    }
    cpu_us = double(utime + stime) * 1e6 / double(sysconf(_SC_CLK_TCK));
    return true;
}

// CPU (µs) of `roots` and their direct children (PostgreSQL's backends).
double service_cpu_us(const std::vector<pid_t>& roots)
{
    double total = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        const auto name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        pid_t ppid = 0;
        double cpu = 0;
        const pid_t pid = std::stoi(name);
        if (!read_stat(pid, ppid, cpu)) continue;
        if (std::find(roots.begin(), roots.end(), pid) != roots.end()
            || std::find(roots.begin(), roots.end(), ppid) != roots.end())
            total += cpu;
    }
    return total;
}

void raise_open_file_limit()
{
    rlimit r{};
    getrlimit(RLIMIT_NOFILE, &r);
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
}

// The server under test, as a child process.
struct server_process {
    pid_t pid = -1;
    int port = 0;
    int stdout_ = -1;

    server_process(const char* binary, const std::vector<std::string>& extra_args)
    {
        int out[2];
        if (pipe(out) != 0) die("pipe");
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        posix_spawn_file_actions_addclose(&fa, out[0]);
        std::vector<std::string> args = {binary,           "--port",       "0",
                                         "--quiet",        "--rate-limit", "0",
                                         "--max-connections-per-ip", "0", "--admin-token",
                                         "bench",          "--register-token", "bench-till:1",
                                         "--heartbeat-ms", "3600000"};
        args.insert(args.end(), extra_args.begin(), extra_args.end());
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        if (posix_spawn(&pid, binary, &fa, nullptr, argv.data(), environ) != 0) die("spawn server");
        close(out[1]);
        std::string text;
        char buf[256];
        while (text.find('\n', text.find("listening on ")) == std::string::npos || text.find("listening on ") == std::string::npos) {
            const auto n = read(out[0], buf, sizeof buf);
            if (n <= 0) die("server did not start");
            text.append(buf, static_cast<std::size_t>(n));
        }
        const auto at = text.find("listening on ");
        const auto line = text.substr(at, text.find('\n', at) - at);
        port = std::atoi(line.substr(line.rfind(':') + 1).c_str());
        stdout_ = out[0]; // kept open: the server prints a last line when it stops
        running_servers.push_back(pid);
    }
    server_process(const server_process&) = delete;
    server_process& operator=(const server_process&) = delete;

    ~server_process()
    {
        if (pid > 0) {
            kill(pid, SIGTERM);
            int status = 0;
            waitpid(pid, &status, 0);
            running_servers.erase(std::remove(running_servers.begin(), running_servers.end(), pid), running_servers.end());
        }
        if (stdout_ >= 0) close(stdout_);
    }

    // utime + stime in microseconds
    double cpu_us() const
    {
        pid_t ppid = 0;
        double cpu = 0;
        if (!read_stat(pid, ppid, cpu)) die("server exited");
        return cpu;
    }

    long rss_kb() const
    {
        std::ifstream f("/proc/" + std::to_string(pid) + "/status");
        for (std::string line; std::getline(f, line);)
            if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
        return 0;
    }
};

int connect_to(int port)
{
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

void write_all(int fd, const std::string& s)
{
    std::size_t off = 0;
    while (off < s.size()) {
        const auto n = write(fd, s.data() + off, s.size() - off);
        if (n <= 0) die("write");
        off += static_cast<std::size_t>(n);
    }
}

// Reads an HTTP response head (and returns what came after it).
std::string read_head(int fd, std::string& head)
{
    std::string text;
    char buf[4096];
    while (text.find("\r\n\r\n") == std::string::npos) {
        const auto n = read(fd, buf, sizeof buf);
        if (n <= 0) die("read response");
        text.append(buf, static_cast<std::size_t>(n));
    }
    const auto end = text.find("\r\n\r\n") + 4;
    head = text.substr(0, end);
    return text.substr(end);
}

struct client {
    int fd = -1;
    std::string pending;          // bytes of an incomplete frame
    std::vector<double> arrivals; // microseconds since start, per notification
};

// Counts whole text frames; records arrival times.
struct reader {
    std::vector<client>& clients;
    clock_type::time_point start;
    std::atomic<long> frames{0};
    std::atomic<bool> stop{false};

    void run()
    {
        const int ep = epoll_create1(0);
        for (std::size_t i = 0; i < clients.size(); ++i) {
            epoll_event e{};
            e.events = EPOLLIN;
            e.data.u64 = i;
            epoll_ctl(ep, EPOLL_CTL_ADD, clients[i].fd, &e);
        }
        std::vector<epoll_event> events(1024);
        std::vector<char> buf(1 << 16);
        while (!stop.load(std::memory_order_relaxed)) {
            const int k = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 50);
            for (int j = 0; j < k; ++j) {
                auto& c = clients[events[j].data.u64];
                const auto n = read(c.fd, buf.data(), buf.size());
                if (n <= 0) continue;
                const double t = std::chrono::duration<double, std::micro>(clock_type::now() - start).count();
                c.pending.append(buf.data(), static_cast<std::size_t>(n));
                std::size_t pos = 0;
                long got = 0;
                while (c.pending.size() - pos >= 2) {
                    const auto b1 = static_cast<unsigned char>(c.pending[pos + 1]) & 0x7f;
                    std::size_t header = 2, len = b1;
                    if (b1 == 126) {
                        if (c.pending.size() - pos < 4) break;
                        header = 4;
                        len = (std::size_t(static_cast<unsigned char>(c.pending[pos + 2])) << 8)
                            | static_cast<unsigned char>(c.pending[pos + 3]);
                    } else if (b1 == 127) {
                        die("unexpected 64-bit frame");
                    }
                    if (c.pending.size() - pos < header + len) break;
                    const auto opcode = static_cast<unsigned char>(c.pending[pos]) & 0x0f;
                    if (opcode == 1) {
                        c.arrivals.push_back(t);
                        ++got;
                    }
                    pos += header + len;
                }
                c.pending.erase(0, pos);
                if (got) frames.fetch_add(got, std::memory_order_release);
            }
        }
        close(ep);
    }
};

double percentile(std::vector<double>& v, double p)
{
    if (v.empty()) return 0;
    const auto i = static_cast<std::size_t>(p * double(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
    return v[i];
}

std::string patch_request(int n)
{
    const std::string body = R"({"price_cents":)" + std::to_string(100000 + n) + "}";
    return "PATCH /api/v1/products/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer bench\r\n"
           "Content-Type: application/json\r\nContent-Length: "
         + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Reads `count` whole HTTP responses (each with Content-Length).
void read_responses(int fd, int count, std::string& carry)
{
    char buf[65536];
    while (count > 0) {
        const auto head_end = carry.find("\r\n\r\n");
        if (head_end != std::string::npos) {
            const auto cl = carry.find("Content-Length: ");
            const std::size_t len = cl < head_end ? std::stoul(carry.substr(cl + 16)) : 0;
            if (carry.size() >= head_end + 4 + len) {
                if (carry.compare(0, 10, "HTTP/1.1 2") != 0) die("request failed: " + carry.substr(0, 60));
                carry.erase(0, head_end + 4 + len);
                --count;
                continue;
            }
        }
        const auto n = read(fd, buf, sizeof buf);
        if (n <= 0) die("read PATCH response");
        carry.append(buf, static_cast<std::size_t>(n));
    }
}

void wait_for_frames(reader& r, long want)
{
    const auto deadline = clock_type::now() + std::chrono::seconds(120);
    while (r.frames.load(std::memory_order_acquire) < want) {
        if (clock_type::now() > deadline) {
            std::fprintf(stderr, "bench_fanout: timed out with %ld of %ld frames\n", r.frames.load(), want);
            std::exit(1);
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
}

// Waits (up to 20 s) until the server on `port` reports its bus link up.
void wait_for_bus(int port)
{
    const std::string request = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer bench\r\n\r\n";
    const auto deadline = clock_type::now() + std::chrono::seconds(20);
    const int fd = connect_to(port);
    for (;;) {
        write_all(fd, request);
        std::string head;
        std::string body = read_head(fd, head);
        const auto cl = head.find("Content-Length: ");
        const std::size_t len = cl == std::string::npos ? 0 : std::stoul(head.substr(cl + 16));
        char buf[65536];
        while (body.size() < len) {
            const auto n = read(fd, buf, sizeof buf);
            if (n <= 0) die("read /metrics");
            body.append(buf, static_cast<std::size_t>(n));
        }
        // "incsync_bus_connected{bus=\"redis\"} 1"
        const auto at = body.find("\nincsync_bus_connected");
        const auto eol = body.find('\n', at + 1);
        if (at != std::string::npos && eol != std::string::npos && body.compare(eol - 2, 2, " 1") == 0) break;
        if (clock_type::now() > deadline) {
            errno = 0;
            die("the bus link of the server on port " + std::to_string(port) + " did not come up");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    close(fd);
}

struct latency_summary {
    double p50 = 0, p99 = 0, max = 0;
};

latency_summary summarize(std::vector<double> v)
{
    if (v.empty()) return {};
    const double max = *std::max_element(v.begin(), v.end());
    return {percentile(v, 0.50), percentile(v, 0.99), max};
}

std::string json_latency(const char* name, const latency_summary& l)
{
    char text[160];
    std::snprintf(text, sizeof text, ",\"%s\":{\"p50\":%.2f,\"p99\":%.2f,\"max\":%.2f}", name, l.p50 / 1000,
                  l.p99 / 1000, l.max / 1000);
    return text;
}

// ,"server_cpu_ms_by_instance":[a,b,...]: each instance's CPU over a phase.
std::string json_cpu_by_instance(const std::vector<double>& before, const std::vector<double>& after)
{
    std::string text = ",\"server_cpu_ms_by_instance\":[";
    for (std::size_t i = 0; i < before.size(); ++i) {
        char one[32];
        std::snprintf(one, sizeof one, "%s%.1f", i ? "," : "", (after[i] - before[i]) / 1000);
        text += one;
    }
    return text + "]";
}

std::vector<pid_t> service_pids_from_env()
{
    std::vector<pid_t> pids;
    const char* env = std::getenv("INCSYNC_BENCH_SERVICE_PIDS");
    std::istringstream in(env ? env : "");
    for (std::string one; std::getline(in, one, ',');)
        if (!one.empty()) pids.push_back(std::stoi(one));
    return pids;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_fanout SERVER_BINARY [clients] [patches] [burst] [SERVER_ARGS...]\n");
        return 2;
    }
    const int n = argc > 2 ? std::atoi(argv[2]) : 1000;
    const int m = argc > 3 ? std::atoi(argv[3]) : 200;
    const int burst = argc > 4 ? std::atoi(argv[4]) : 200;
    const char* instances_env = std::getenv("INCSYNC_BENCH_INSTANCES");
    const int k = instances_env ? std::atoi(instances_env) : 1;
    if (k < 1 || k > 64 || n < k) {
        std::fprintf(stderr, "bench_fanout: INCSYNC_BENCH_INSTANCES must be 1..64 and at most the clients\n");
        return 2;
    }
    const std::vector<pid_t> service_pids = service_pids_from_env();
    raise_open_file_limit();
    signal(SIGPIPE, SIG_IGN);

    // One after the other: the first creates the store's schema (PostgreSQL),
    // so the others find it; each bus link is up before any write.
    const std::vector<std::string> server_args(argv + std::min(argc, 5), argv + argc);
    const bool has_bus = std::find(server_args.begin(), server_args.end(), "--bus") != server_args.end();
    std::vector<std::unique_ptr<server_process>> servers;
    for (int i = 0; i < k; ++i) {
        servers.push_back(std::make_unique<server_process>(argv[1], server_args));
        if (has_bus) wait_for_bus(servers.back()->port);
    }
    auto& server = *servers.front(); // takes every write
    auto cpu_by_instance = [&] {
        std::vector<double> cpu;
        for (const auto& s : servers) cpu.push_back(s->cpu_us());
        return cpu;
    };
    auto cpu_sum = [](const std::vector<double>& cpu) { return std::accumulate(cpu.begin(), cpu.end(), 0.0); };
    auto rss_kb = [&] {
        long sum = 0;
        for (const auto& s : servers) sum += s->rss_kb();
        return sum;
    };

    // Warm the server (first-use allocations) with one connection and write.
    const int admin = connect_to(server.port);
    std::string carry;
    const std::string create = R"({"name":"Benchmark Espresso","sku":"BENCH-1","price_cents":250})";
    write_all(admin, "POST /api/v1/products HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer bench\r\n"
                     "Content-Length: " + std::to_string(create.size()) + "\r\n\r\n" + create);
    read_responses(admin, 1, carry); // product 1 on the fresh server

    const long rss_before = rss_kb();
    std::vector<client> clients(static_cast<std::size_t>(n));
    // INCSYNC_BENCH_DEFLATE=1: offer permessage-deflate (the server compresses
    // when started with --permessage-deflate N); frames are counted, not read.
    const bool offer_deflate = std::getenv("INCSYNC_BENCH_DEFLATE") != nullptr;
    const std::string upgrade = std::string("GET /ws/sync/bench?store_id=1&token=bench-till HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n")
                              + (offer_deflate ? "Sec-WebSocket-Extensions: permessage-deflate\r\n" : "")
                              + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    for (std::size_t i = 0; i < clients.size(); ++i) {
        auto& c = clients[i];
        c.fd = connect_to(servers[i % servers.size()]->port);
        write_all(c.fd, upgrade);
        std::string head;
        c.pending = read_head(c.fd, head);
        if (head.rfind("HTTP/1.1 101", 0) != 0) die("upgrade refused: " + head.substr(0, 40));
    }
    const long rss_after = rss_kb();

    reader r{clients, clock_type::now()};
    std::thread reader_thread([&] { r.run(); });

    // Paced: one PATCH at a time.
    std::vector<double> sent;
    const auto cpu0 = cpu_by_instance();
    const double service0 = service_cpu_us(service_pids);
    for (int i = 0; i < m; ++i) {
        sent.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - r.start).count());
        write_all(admin, patch_request(i));
        read_responses(admin, 1, carry);
        wait_for_frames(r, long(n) * (i + 1));
    }
    const auto cpu1 = cpu_by_instance();
    const double service1 = service_cpu_us(service_pids);

    // Burst: one PATCH on each of `burst` admin connections, written back to
    // back, as many consoles (or a bulk job) writing within a few ms would.
    std::vector<int> writers(static_cast<std::size_t>(burst));
    std::vector<std::string> carries(writers.size());
    for (auto& w : writers) w = connect_to(server.port);
    const auto cpu2 = cpu_by_instance();
    const double service2 = service_cpu_us(service_pids);
    const auto burst_start = clock_type::now();
    for (std::size_t i = 0; i < writers.size(); ++i) write_all(writers[i], patch_request(m + int(i)));
    for (std::size_t i = 0; i < writers.size(); ++i) read_responses(writers[i], 1, carries[i]);
    wait_for_frames(r, long(n) * (m + burst));
    const double burst_ms = std::chrono::duration<double, std::milli>(clock_type::now() - burst_start).count();
    const auto cpu3 = cpu_by_instance();
    const double service3 = service_cpu_us(service_pids);

    r.stop = true;
    reader_thread.join();

    // Latency of paced PATCH i at each client: all clients, those of
    // instance 0 (local) and those of the others (through the bus).
    std::vector<double> latency, local, bus;
    latency.reserve(std::size_t(n) * std::size_t(m));
    for (std::size_t j = 0; j < clients.size(); ++j) {
        const auto& c = clients[j];
        for (int i = 0; i < m && i < int(c.arrivals.size()); ++i) {
            const double l = c.arrivals[std::size_t(i)] - sent[std::size_t(i)];
            latency.push_back(l);
            if (k > 1) (j % servers.size() == 0 ? local : bus).push_back(l);
        }
    }
    const auto all = summarize(std::move(latency));

    std::string paced_extra, burst_extra;
    if (k > 1) {
        paced_extra = json_latency("latency_local_ms", summarize(std::move(local)))
                    + json_latency("latency_bus_ms", summarize(std::move(bus))) + json_cpu_by_instance(cpu0, cpu1);
        burst_extra = json_cpu_by_instance(cpu2, cpu3);
    }
    if (!service_pids.empty()) {
        char text[64];
        std::snprintf(text, sizeof text, ",\"service_cpu_us_per_patch\":%.1f", (service1 - service0) / m);
        paced_extra += text;
        std::snprintf(text, sizeof text, ",\"service_cpu_us_per_patch\":%.1f", (service3 - service2) / burst);
        burst_extra += text;
    }
    std::printf("{\"phase\":\"paced\",\"clients\":%d,\"patches\":%d,\"server_cpu_us_per_notification\":%.3f,"
                "\"latency_ms\":{\"p50\":%.2f,\"p99\":%.2f,\"max\":%.2f},\"server_rss_bytes_per_connection\":%.0f%s}\n",
                n, m, (cpu_sum(cpu1) - cpu_sum(cpu0)) / (double(n) * m), all.p50 / 1000, all.p99 / 1000, all.max / 1000,
                double(rss_after - rss_before) * 1024 / n, paced_extra.c_str());
    std::printf("{\"phase\":\"burst\",\"clients\":%d,\"patches\":%d,\"server_cpu_us_per_notification\":%.3f,"
                "\"wall_ms\":%.1f%s}\n",
                n, burst, (cpu_sum(cpu3) - cpu_sum(cpu2)) / (double(n) * burst), burst_ms, burst_extra.c_str());
    for (auto& c : clients) close(c.fd);
    for (int w : writers) close(w);
    close(admin);
    return 0;
}
