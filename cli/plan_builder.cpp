// Plan building: the only place that knows how profile endpoints map onto probes.
#include "cli/plan_builder.hpp"

#include <map>

#include "core/target.hpp"

namespace gwprobe::cli {

namespace {

class PlanAssembler {
 public:
  explicit PlanAssembler(const PlanSettings& settings) : settings_(settings) {}

  bool wants(const std::string& kind) const {
    return settings_.only_kinds.empty() || settings_.only_kinds.count(kind) > 0;
  }

  /// Adds a spec, or merges it into an existing one with the same id; returns its index.
  std::optional<std::size_t> add(probes::ProbeSpec spec) {
    if (const auto found = index_.find(spec.id); found != index_.end()) {
      auto& existing = plan_[found->second];
      existing.required = existing.required || spec.required;
      return found->second;
    }
    index_[spec.id] = plan_.size();
    plan_.push_back(std::move(spec));
    return plan_.size() - 1;
  }

  std::vector<probes::ProbeSpec> take() { return std::move(plan_); }

 private:
  const PlanSettings& settings_;
  std::vector<probes::ProbeSpec> plan_;
  std::map<std::string, std::size_t> index_;
};

std::vector<std::size_t> deps_of(std::optional<std::size_t> index) {
  if (!index) return {};
  return {*index};
}

}  // namespace

probes::tls::TlsOptions tls_options_from(const rules::TlsSettings& settings) {
  probes::tls::TlsOptions options;
  options.min_version = probes::tls::parse_min_version(settings.min_version)
                            .value_or(probes::tls::MinVersion::tls1_2);
  options.expected_root_sha1 = settings.expected_root_sha1;
  options.expected_root_sha256 = settings.expected_root_sha256;
  options.expected_root_names = settings.expected_root_names;
  options.ca_file = settings.ca_file;
  // A profile with only a CA file (local, lab) trusts that file alone; with fingerprints, the
  // roots come from the system trust store.
  options.use_system_store = settings.ca_file.empty() || !settings.expected_root_sha1.empty() ||
                             !settings.expected_root_sha256.empty();
  options.spki_pins = settings.spki_pins;
  options.expiry_warning_days = settings.expiry_warning_days;
  return options;
}

const std::vector<std::string>& plannable_kinds() {
  // "bgp" is not a probe: check_run evaluates the profile's route filter when it is selected.
  static const std::vector<std::string> kinds = {"dns", "tcp", "tls", "bgp"};
  return kinds;
}

core::Result<std::vector<probes::ProbeSpec>> build_plan(const rules::Profile& profile,
                                                        const PlanSettings& settings) {
  for (const auto& kind : settings.only_kinds) {
    bool known = false;
    for (const auto& k : plannable_kinds()) known = known || k == kind;
    if (!known) {
      std::string valid;
      for (const auto& k : plannable_kinds()) valid += (valid.empty() ? "" : ", ") + k;
      return core::fail(core::FailureKind::invalid_input,
                        "unknown check kind '" + kind + "' in --only (valid: " + valid + ")");
    }
  }
  const auto timeout = settings.timeout.value_or(profile.timeout);
  PlanAssembler plan(settings);

  for (const auto& endpoint : profile.endpoints) {
    const std::string host = endpoint.probe_host.empty() ? endpoint.host : endpoint.probe_host;
    const bool required = endpoint.is_required(profile.https_mode);

    std::optional<std::size_t> dns_index;
    if (plan.wants("dns") && !core::is_ip_literal(host)) {
      probes::ProbeSpec dns;
      dns.id = "dns:" + host;
      dns.target = core::Target{host, 0};
      dns.endpoint = endpoint.name;
      dns.required = required;
      dns.timeout = timeout;
      probes::dns::DnsOptions options;
      options.reference_resolvers = profile.dns.reference_resolvers;
      options.reference_resolvers.insert(options.reference_resolvers.end(),
                                         settings.extra_resolvers.begin(),
                                         settings.extra_resolvers.end());
      options.private_answers_expected = profile.dns.private_answers_expected;
      options.resolv_conf = settings.resolver.resolv_conf;
      options.hosts_file = settings.resolver.hosts_file;
      options.system_resolver_port = settings.resolver.port;
      dns.options = options;
      dns_index = plan.add(std::move(dns));
    }

    for (const auto port : endpoint.ports) {
      const core::Target target{host, port};
      std::optional<std::size_t> tcp_index;
      if (plan.wants("tcp")) {
        probes::ProbeSpec tcp;
        tcp.id = "tcp:" + target.to_string();
        tcp.target = target;
        tcp.endpoint = endpoint.name;
        tcp.required = required;
        tcp.timeout = timeout;
        tcp.options = probes::tcp::TcpOptions{};
        tcp.depends_on = deps_of(dns_index);
        tcp_index = plan.add(std::move(tcp));
      }
      if (endpoint.tls && plan.wants("tls")) {
        probes::ProbeSpec tls;
        tls.id = "tls:" + target.to_string();
        tls.target = target;
        tls.endpoint = endpoint.name;
        tls.required = required;
        tls.timeout = timeout;
        tls.options = tls_options_from(profile.tls);
        tls.depends_on = deps_of(tcp_index ? tcp_index : dns_index);
        plan.add(std::move(tls));
      }
    }
  }
  return plan.take();
}

}  // namespace gwprobe::cli
