# Regenerates OnnxProto.cs from onnx.proto (ONNX 1.12's schema, as Debian's python3-onnx ships it, plus our
# csharp_namespace) with protoc from the Google.Protobuf.Tools package, at the version of the Google.Protobuf
# runtime the engine references. Run it after changing either; commit both files.
#   dotnet pwsh src/Isaacai/Onnx/Schema/generate.ps1
$ErrorActionPreference = 'Stop'
$version = '3.36.2'
$tools = Join-Path ([Environment]::GetFolderPath('UserProfile')) ".nuget/packages/google.protobuf.tools/$version/tools"
if (-not (Test-Path $tools)) { throw "protoc not found under ${tools}: restore Google.Protobuf.Tools $version first (any project referencing it)." }
$platform = if ($IsWindows) { 'windows_x64' } elseif ($IsMacOS) { 'macosx_x64' } else { 'linux_x64' }
$protoc = Join-Path $tools "$platform/protoc$(if ($IsWindows) { '.exe' })"
& $protoc --proto_path=$PSScriptRoot --csharp_out=$PSScriptRoot --csharp_opt=internal_access,file_extension=.g.cs (Join-Path $PSScriptRoot 'onnx.proto')
if ($LASTEXITCODE) { throw "protoc failed ($LASTEXITCODE)" }
