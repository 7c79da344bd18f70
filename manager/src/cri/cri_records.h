// CRI objects over berthd's container records: the kind, sandbox and config labels (cri_labels.h)
// written at create and read back on every call, so a restarted berthd knows every pod and container.
#pragma once

#include <string>

#include "cri/cri_labels.h"
#include "metadata/metadata_store.h"
#include "registry/http_client.h"

namespace berth::manager::cri {

template <class Config>
void store_config(Labels& labels, const Config& config) {
  labels[kConfigLabel] = base64_encode(config.SerializeAsString());
}

template <class Config>
Result<Config> load_config(const ContainerRecord& record) {
  auto it = record.labels.find(kConfigLabel);
  if (it == record.labels.end())
    return make_error(ErrorCode::kDataLoss, "container {} has no CRI config", record.id);
  BERTH_ASSIGN_OR_RETURN(std::string bytes, base64_decode(it->second));
  Config config;
  if (!config.ParseFromString(bytes))
    return make_error(ErrorCode::kDataLoss, "container {}: unreadable CRI config", record.id);
  return config;
}

inline bool is_kind(const ContainerRecord& record, const char* kind) {
  auto it = record.labels.find(kKindLabel);
  return it != record.labels.end() && it->second == kind;
}

inline std::string label_or(const ContainerRecord& record, const char* key, std::string fallback = {}) {
  auto it = record.labels.find(key);
  return it == record.labels.end() ? fallback : it->second;
}

}  // namespace berth::manager::cri

namespace berth::manager::cri {

// 64 random hex digits, as containerd's CRI ids.
std::string new_id();
int64_t now_unix_nano();

}  // namespace berth::manager::cri
