// Pins the protoc plugins `buf generate` runs for Go (scripts/clients/install.sh installs them
// into .cache/bin with `go install tool`). Keep google.golang.org/protobuf in step with
// clients/go/go.mod.
module github.com/mlcache/mlcache/scripts/clients/go-tools

go 1.25.0

tool (
	google.golang.org/grpc/cmd/protoc-gen-go-grpc
	google.golang.org/protobuf/cmd/protoc-gen-go
)

require (
	google.golang.org/grpc/cmd/protoc-gen-go-grpc v1.6.2 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)
