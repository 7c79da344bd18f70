// What berthd keeps of a CRI object on its container record (SQLite, so it survives a berthd crash):
// labels under io.berth.cri.*, the CRI config itself serialized (protobuf, base64).
#pragma once

namespace berth::manager::cri {

inline constexpr const char* kNamespace = "k8s.io";  // the berthd namespace of CRI images, pods, containers
inline constexpr const char* kKindLabel = "io.berth.cri.kind";  // "sandbox" or "container"
inline constexpr const char* kSandboxKind = "sandbox";
inline constexpr const char* kContainerKind = "container";
inline constexpr const char* kSandboxIdLabel = "io.berth.cri.sandbox-id";
inline constexpr const char* kConfigLabel = "io.berth.cri.config";          // base64 protobuf
inline constexpr const char* kStartedAtLabel = "io.berth.cri.started-at";   // unix ns
// On a sandbox: "none" when berthd pins its namespaces; absent (older records) or "pause": a pause container.
inline constexpr const char* kInfraLabel = "io.berth.cri.infra";
inline constexpr const char* kLogPathLabel = "io.berth.cri.log-path";       // absolute, "" if none

}  // namespace berth::manager::cri
