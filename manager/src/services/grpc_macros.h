// Early returns from gRPC handlers: a failed Result/Status becomes the handler's grpc::Status.
#pragma once

#include "services/services.h"

#define BERTH_GRPC_TRY(expr)                                                 \
  do {                                                                       \
    auto berth_grpc_st_ = (expr);                                            \
    if (!berth_grpc_st_.ok()) return to_grpc_status(berth_grpc_st_.error()); \
  } while (0)

#define BERTH_GRPC_ASSIGN(lhs, expr) \
  BERTH_GRPC_ASSIGN_IMPL_(BERTH_CONCAT_(berth_grpc_r_, __LINE__), lhs, expr)
#define BERTH_GRPC_ASSIGN_IMPL_(tmp, lhs, expr)      \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return to_grpc_status(tmp.error()); \
  lhs = std::move(tmp).value()
