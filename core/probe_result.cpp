// ProbeResult helpers.
#include "core/probe_result.hpp"

#include <cstdio>
#include <utility>

namespace gwprobe::core {

std::string_view to_string(Status s) noexcept {
  switch (s) {
    case Status::pass:
      return "pass";
    case Status::warn:
      return "warn";
    case Status::fail:
      return "fail";
    case Status::skip:
      return "skip";
    case Status::error:
      return "error";
  }
  return "error";
}

void ProbeResult::set_phase(std::string_view name, std::chrono::nanoseconds d) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d);
  for (auto& p : phases) {
    if (p.name == name) {
      p.duration = us;
      return;
    }
  }
  phases.push_back(Phase{std::string(name), us});
}

void ProbeResult::set_fact(std::string_view key, FactValue value) {
  for (auto& f : facts) {
    if (f.key == key) {
      f.value = std::move(value);
      return;
    }
  }
  facts.push_back(Fact{std::string(key), std::move(value)});
}

const FactValue* ProbeResult::fact(std::string_view key) const {
  for (const auto& f : facts) {
    if (f.key == key) return &f.value;
  }
  return nullptr;
}

std::string to_text(const FactValue& value) {
  struct Visitor {
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(std::int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.6g", d);
      return buf;
    }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(const std::vector<std::string>& list) const {
      std::string out;
      for (const auto& item : list) {
        if (!out.empty()) out += ", ";
        out += item;
      }
      return out;
    }
  };
  return std::visit(Visitor{}, value);
}

std::string ProbeResult::fact_text(std::string_view key) const {
  const auto* v = fact(key);
  return v ? to_text(*v) : std::string();
}

ProbeResult make_result(Status status, Diagnosis diagnosis, std::string message) {
  ProbeResult r;
  r.status = status;
  r.diagnosis = diagnosis;
  r.message = std::move(message);
  return r;
}

void set_verdict(ProbeResult& into, Diagnosis diagnosis, std::string message) {
  into.diagnosis = diagnosis;
  if (diagnosis == Diagnosis::ok) {
    into.status = Status::pass;
  } else if (diagnosis == Diagnosis::probe_cancelled || diagnosis == Diagnosis::probe_error) {
    into.status = Status::error;
  } else {
    into.status = Status::fail;
  }
  into.message = std::move(message);
}

Status status_for(Diagnosis diagnosis, bool required) noexcept {
  if (diagnosis == Diagnosis::ok) return Status::pass;
  return required ? Status::fail : Status::warn;
}

}  // namespace gwprobe::core
