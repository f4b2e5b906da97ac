"""A protoc plugin for gRPC Python stubs, made from grpcio-tools.

grpcio-tools ships its code generator inside `grpc_tools.protoc`, not as a plugin executable,
so this adapter speaks the plugin protocol (CodeGeneratorRequest on stdin, response on
stdout): it hands the request's descriptors to grpc_tools.protoc with --descriptor_set_in and
returns the files it wrote. The plugin parameter (buf.gen.yaml `opt`) is passed through.
"""

import os
import sys
import tempfile

from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2
from grpc_tools import protoc


def main() -> int:
    request = plugin_pb2.CodeGeneratorRequest.FromString(sys.stdin.buffer.read())
    response = plugin_pb2.CodeGeneratorResponse(
        supported_features=plugin_pb2.CodeGeneratorResponse.FEATURE_PROTO3_OPTIONAL
    )
    with tempfile.TemporaryDirectory(prefix="grpc-python-") as scratch:
        descriptors = os.path.join(scratch, "descriptors.binpb")
        out = os.path.join(scratch, "out")
        os.mkdir(out)
        with open(descriptors, "wb") as f:
            f.write(descriptor_pb2.FileDescriptorSet(file=request.proto_file).SerializeToString())
        target = f"{request.parameter}:{out}" if request.parameter else out
        code = protoc.main(
            ["grpc_tools.protoc", f"--descriptor_set_in={descriptors}", f"--grpc_python_out={target}"]
            + list(request.file_to_generate)
        )
        if code != 0:
            response.error = f"grpc_tools.protoc failed with exit code {code}"
        else:
            for directory, _, files in sorted(os.walk(out)):
                for name in sorted(files):
                    path = os.path.join(directory, name)
                    with open(path, encoding="utf-8") as f:
                        response.file.add(name=os.path.relpath(path, out).replace(os.sep, "/"), content=f.read())
    sys.stdout.buffer.write(response.SerializeToString())
    return 0


if __name__ == "__main__":
    sys.exit(main())
