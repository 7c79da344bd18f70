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

# gRPC, protobuf, abseil and OpenSSL linked statically (libc and libstdc++ stay shared): for
# small long-lived processes such as berth-shim, where dozens of copies run at once, it saves
# the dynamic loader's start-up work and the relocated (hence private) pages of ~60 libraries.
pkg_check_modules(GRPCPP_STATIC_PC REQUIRED grpc++ protobuf)
set(berth_grpc_static_libs ${GRPCPP_STATIC_PC_STATIC_LIBRARIES})
list(REMOVE_DUPLICATES berth_grpc_static_libs)
list(REMOVE_ITEM berth_grpc_static_libs dl rt atomic pthread m)
list(TRANSFORM berth_grpc_static_libs PREPEND "-l:lib")
list(TRANSFORM berth_grpc_static_libs APPEND ".a")
add_library(berth_grpc_static INTERFACE)
target_include_directories(berth_grpc_static SYSTEM INTERFACE ${GRPCPP_STATIC_PC_INCLUDE_DIRS})
target_link_libraries(berth_grpc_static INTERFACE
  "-Wl,--start-group" ${berth_grpc_static_libs} "-Wl,--end-group" dl rt atomic Threads::Threads)

# berth_add_proto_library(name PROTOS ... [DEPS ...] [STATIC_VARIANT]): STATIC_VARIANT adds
# <name>_static, the same code linked against berth_grpc_static. A program links one or the
# other, never both (two copies of gRPC's globals).
function(berth_add_proto_library name)
  cmake_parse_arguments(ARG "STATIC_VARIANT" "" "PROTOS;DEPS" ${ARGN})
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
  if(ARG_STATIC_VARIANT)
    add_library(${name}_static STATIC ${sources})
    target_include_directories(${name}_static SYSTEM PUBLIC ${BERTH_PROTO_OUT})
    target_link_libraries(${name}_static PUBLIC berth_grpc_static ${ARG_DEPS})
  endif()
endfunction()
