#include "gateway/metrics/metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "gateway/server/runtime.hpp"

namespace gw {

namespace {

prometheus::Gauge& gauge(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::size_t count_open_fds() {
  std::size_t n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (auto* e = ::readdir(d)) n += e->d_name[0] != '.';
    ::closedir(d);
    --n;  // the directory stream's own descriptor
  }
  return n;
}

}  // namespace

Metrics::Metrics()
    : registry(std::make_shared<prometheus::Registry>()),
      inflight_requests(gauge(*registry, "gateway_inflight_requests",
                              "Client requests being answered right now")),
      reloads_ok(prometheus::BuildCounter()
                     .Name("gateway_config_reloads_total")
                     .Help("Configuration reloads by result")
                     .Register(*registry)
                     .Add({{"result", "success"}})),
      reloads_failed(prometheus::BuildCounter()
                         .Name("gateway_config_reloads_total")
                         .Help("Configuration reloads by result")
                         .Register(*registry)
                         .Add({{"result", "failure"}})),
      resident_memory_bytes_(
          gauge(*registry, "process_resident_memory_bytes", "Resident memory size in bytes.")),
      virtual_memory_bytes_(
          gauge(*registry, "process_virtual_memory_bytes", "Virtual memory size in bytes.")),
      open_fds_(gauge(*registry, "process_open_fds", "Number of open file descriptors.")),
      max_fds_(gauge(*registry, "process_max_fds", "Maximum number of open file descriptors.")),
      start_time_seconds_(gauge(*registry, "process_start_time_seconds",
                                "Start time of the process since unix epoch in seconds.")),
      cpu_seconds_(prometheus::BuildCounter()
                       .Name("process_cpu_seconds_total")
                       .Help("Total user and system CPU time spent in seconds.")
                       .Register(*registry)
                       .Add({})) {
  start_time_seconds_.Set(now_seconds());
}

void Metrics::refresh_process_metrics(const Runtime& rt) {
  inflight_requests.Set(static_cast<double>(rt.inflight_requests.load()));
  // /proc/self/stat: utime (14), stime (15), vsize (23), rss pages (24).
  std::ifstream stat("/proc/self/stat");
  std::string content((std::istreambuf_iterator<char>(stat)), {});
  auto close_paren = content.rfind(')');
  if (close_paren != std::string::npos) {
    std::istringstream fields(content.substr(close_paren + 2));
    std::string f[22];
    for (auto& x : f) fields >> x;
    double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    double cpu = (std::stod(f[11]) + std::stod(f[12])) / ticks;
    cpu_seconds_.Increment(cpu - cpu_seconds_.Value());
    virtual_memory_bytes_.Set(std::stod(f[20]));
    resident_memory_bytes_.Set(std::stod(f[21]) * static_cast<double>(::sysconf(_SC_PAGESIZE)));
  }
  open_fds_.Set(static_cast<double>(count_open_fds()));
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0) max_fds_.Set(static_cast<double>(lim.rlim_cur));
}

}  // namespace gw
