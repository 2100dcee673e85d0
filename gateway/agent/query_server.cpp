// serve_query: request -> data source -> columns, batched rows, trailer (or queryError).
#include "gateway/agent/query_server.hpp"

#include <utility>

namespace gwprobe::gateway::agent {

namespace {

using protocol::QueryStage;

/// Streams a data source's answer into frames: rows gather into batches of at most
/// kMaxBatchRows rows and (after the first row) kMaxBatchBytes bytes, and feed the digest.
class BatchingSink : public datasource::RowSink {
 public:
  BatchingSink(std::string id, FrameSink& frames) : id_(std::move(id)), frames_(frames) {}

  core::Result<void> columns(std::vector<std::string> names) override {
    columns_sent_ = true;
    return deliver(protocol::QueryColumns{id_, std::move(names)});
  }

  core::Result<void> row(protocol::Row row) override {
    if (!columns_sent_) {
      if (auto sent = columns({}); !sent) return sent;
    }
    const auto size = protocol::encoded_size(row);
    if (!batch_.empty() && (batch_.size() >= protocol::kMaxBatchRows ||
                            batch_bytes_ + size > protocol::kMaxBatchBytes)) {
      if (auto sent = flush(); !sent) return sent;
    }
    digest_.add(row);
    batch_bytes_ += size;
    batch_.push_back(std::move(row));
    return {};
  }

  core::Result<void> flush() {
    if (batch_.empty()) return {};
    protocol::QueryRows frame{id_, std::move(batch_)};
    batch_.clear();
    batch_bytes_ = 0;
    return deliver(frame);
  }

  /// The rest of the rows, then the trailer.
  core::Result<void> finish() {
    if (!columns_sent_) {
      if (auto sent = columns({}); !sent) return sent;
    }
    if (auto sent = flush(); !sent) return sent;
    return deliver(protocol::QueryTrailer{id_, digest_.rows(), digest_.hex()});
  }

  std::uint64_t rows() const { return digest_.rows(); }
  bool client_gone() const { return client_gone_; }

 private:
  core::Result<void> deliver(const protocol::QueryMessage& message) {
    auto sent = frames_.send(protocol::serialize(message));
    if (!sent) client_gone_ = true;
    return sent;
  }

  std::string id_;
  FrameSink& frames_;
  bool columns_sent_ = false;
  std::vector<protocol::Row> batch_;
  std::size_t batch_bytes_ = 0;
  protocol::RowDigest digest_;
  bool client_gone_ = false;
};

/// Sends a queryError (best effort) and describes the failure.
QueryOutcome refuse(QueryOutcome outcome, FrameSink& sink, QueryStage stage, std::string message) {
  outcome.ok = false;
  outcome.stage = std::string(protocol::to_string(stage));
  outcome.message = message;
  if (!sink.send(
          protocol::serialize(protocol::QueryError{outcome.id, stage, std::move(message)}))) {
    outcome.stage = "client";
    outcome.message = "the client went away before the error could be sent";
  }
  return outcome;
}

/// Releases a slot when the query is over, however it ended.
class SlotGuard {
 public:
  explicit SlotGuard(QuerySlots& slots) : slots_(slots) {}
  ~SlotGuard() { slots_.release(); }
  SlotGuard(const SlotGuard&) = delete;
  SlotGuard& operator=(const SlotGuard&) = delete;

 private:
  QuerySlots& slots_;
};

}  // namespace

core::Result<void> DataSourceSet::add(std::unique_ptr<datasource::DataSource> source) {
  if (find(source->name()) != nullptr && !source->name().empty()) {
    return core::fail(core::FailureKind::invalid_input,
                      "two data sources are named '" + source->name() + "'");
  }
  sources_.push_back(std::move(source));
  return {};
}

const datasource::DataSource* DataSourceSet::find(std::string_view name) const {
  if (name.empty()) return sources_.empty() ? nullptr : sources_.front().get();
  for (const auto& s : sources_) {
    if (s->name() == name) return s.get();
  }
  return nullptr;
}

bool QuerySlots::try_acquire() {
  auto current = in_use_.load();
  while (current < limit_) {
    if (in_use_.compare_exchange_weak(current, current + 1)) return true;
  }
  return false;
}

void QuerySlots::release() {
  in_use_.fetch_sub(1);
}

QueryOutcome serve_query(std::string_view request_json, const DataSourceSet& sources,
                         const SealedOpener& open_sealed, QuerySlots& slots, FrameSink& sink,
                         const core::Deadline& deadline) {
  QueryOutcome outcome;
  if (request_json.size() > protocol::kMaxRequestBytes) {
    return refuse(std::move(outcome), sink, QueryStage::request,
                  "the query request is " + std::to_string(request_json.size()) +
                      " bytes; the limit is " + std::to_string(protocol::kMaxRequestBytes));
  }
  auto parsed = protocol::parse_query_message(request_json);
  if (!parsed) {
    return refuse(std::move(outcome), sink, QueryStage::request,
                  "not a query request: " + parsed.error().message);
  }
  auto* request = std::get_if<protocol::QueryRequest>(&*parsed);
  if (request == nullptr) {
    return refuse(std::move(outcome), sink, QueryStage::request,
                  "expected a gwprobeQuery message first");
  }
  outcome.id = request->id;
  const auto* source = sources.find(request->datasource);
  if (source == nullptr) {
    return refuse(std::move(outcome), sink, QueryStage::datasource,
                  request->datasource.empty()
                      ? std::string("this gateway has no data source configured")
                      : "no data source named '" + request->datasource + "' on this gateway");
  }
  outcome.datasource = source->name();
  std::optional<core::Secret> password;
  if (request->sealed_credentials) {
    if (!open_sealed) {
      return refuse(std::move(outcome), sink, QueryStage::credentials,
                    "the query carries sealed credentials but this gateway has no identity key "
                    "(--identity)");
    }
    auto opened = open_sealed(*request->sealed_credentials);
    if (!opened) {
      return refuse(std::move(outcome), sink, QueryStage::credentials,
                    "cannot open the sealed credentials: " + opened.error().message);
    }
    password = std::move(*opened);
  }
  if (!slots.try_acquire()) {
    return refuse(std::move(outcome), sink, QueryStage::busy,
                  "the gateway is running " + std::to_string(slots.limit()) +
                      " queries, its limit; try again shortly");
  }
  SlotGuard slot(slots);
  BatchingSink batches(outcome.id, sink);
  auto ran = source->run(request->sql, password, batches, deadline);
  if (ran) ran = batches.finish();
  outcome.rows = batches.rows();
  if (batches.client_gone()) {
    outcome.stage = "client";
    outcome.message = "the client went away during the answer";
    return outcome;
  }
  if (!ran) {
    const auto& error = ran.error();
    const auto stage =
        error.kind == core::FailureKind::internal ? QueryStage::internal : QueryStage::database;
    std::string message = error.message;
    if (error.kind == core::FailureKind::timeout && message.empty()) {
      message = "the query did not finish before the deadline";
    }
    return refuse(std::move(outcome), sink, stage, std::move(message));
  }
  outcome.ok = true;
  return outcome;
}

}  // namespace gwprobe::gateway::agent
