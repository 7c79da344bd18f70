# berth_add_proto_library(name PROTOS a.proto ... [DEPS other_proto_lib ...])
# Generates protobuf + gRPC C++ code into the build tree (never the source tree) and wraps it in a
# static library. Import paths are relative to the top-level proto/ directory, so a file under
# proto/berth/task/v1/task.proto is imported as "berth/task/v1/task.proto" and its header is
# included as "berth/task/v1/task.pb.h".
find_package(PkgConfig REQUIRED)
pkg_check_modules(GRPCPP REQUIRED IMPORTED_TARGET grpc++)
pkg_check_modules(PROTOBUF REQUIRED IMPORTED_TARGET protobuf)
find_program(BERTH_PROTOC protoc REQUIRED)
find_program(BERTH_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

set(BERTH_PROTO_ROOT ${CMAKE_SOURCE_DIR}/proto)
set(BERTH_PROTO_OUT ${CMAKE_BINARY_DIR}/proto_gen)

function(berth_add_proto_library name)
  cmake_parse_arguments(ARG "" "" "PROTOS;DEPS" ${ARGN})
  file(MAKE_DIRECTORY ${BERTH_PROTO_OUT})
  set(sources)
  foreach(proto ${ARG_PROTOS})
    get_filename_component(abs ${proto} ABSOLUTE)
    file(RELATIVE_PATH rel ${BERTH_PROTO_ROOT} ${abs})
    string(REGEX REPLACE "\\.proto$" "" base ${rel})
    set(outs ${BERTH_PROTO_OUT}/${base}.pb.cc ${BERTH_PROTO_OUT}/${base}.pb.h
             ${BERTH_PROTO_OUT}/${base}.grpc.pb.cc ${BERTH_PROTO_OUT}/${base}.grpc.pb.h)
    add_custom_command(
      OUTPUT ${outs}
      COMMAND ${BERTH_PROTOC} --proto_path=${BERTH_PROTO_ROOT} --cpp_out=${BERTH_PROTO_OUT}
              --grpc_out=${BERTH_PROTO_OUT} --plugin=protoc-gen-grpc=${BERTH_GRPC_CPP_PLUGIN} ${abs}
      DEPENDS ${abs}
      COMMENT "protoc ${rel}")
    list(APPEND sources ${BERTH_PROTO_OUT}/${base}.pb.cc ${BERTH_PROTO_OUT}/${base}.grpc.pb.cc)
  endforeach()
  add_library(${name} STATIC ${sources})
  # Generated code is not ours to lint: no -Werror, and its headers are system headers to users.
  target_include_directories(${name} SYSTEM PUBLIC ${BERTH_PROTO_OUT})
  target_link_libraries(${name} PUBLIC PkgConfig::GRPCPP PkgConfig::PROTOBUF ${ARG_DEPS})
endfunction()
