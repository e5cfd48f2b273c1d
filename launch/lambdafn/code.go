package lambdafn

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/vpcprobe/vpcprobe/needs"
)

// Lambda architectures, as CreateFunction's Architectures names them.
const (
	ArchX86 = "x86_64"
	ArchARM = "arm64"
)

// ErrNotLambdaBinary is returned for code that is not a Linux ELF executable for one of
// Lambda's architectures (x86_64, arm64): a provided.al2023 function cannot run it.
var ErrNotLambdaBinary = errors.New("not a Linux ELF executable for x86_64 or arm64")

// maxLambdaZip is Lambda's limit on a zip uploaded directly with CreateFunction.
const maxLambdaZip = 50 << 20

// ELFArchitecture returns the Lambda architecture of an executable from its ELF header: 64-bit,
// little-endian, machine x86-64 (62) or AArch64 (183), OS ABI System V (what Go writes) or Linux.
// The header is read by hand rather than with debug/elf, which would add its tables to the binary
// for four fields.
func ELFArchitecture(head []byte) (string, error) {
	const (
		eiClass, eiData, eiOSABI = 4, 5, 7
		eMachine                 = 18
	)
	if len(head) < 20 || string(head[:4]) != "\x7fELF" || head[eiClass] != 2 || head[eiData] != 1 ||
		(head[eiOSABI] != 0 && head[eiOSABI] != 3) {
		return "", ErrNotLambdaBinary
	}
	switch binary.LittleEndian.Uint16(head[eMachine:]) {
	case 62:
		return ArchX86, nil
	case 183:
		return ArchARM, nil
	}
	return "", ErrNotLambdaBinary
}

// SelfCode zips the executable at path as a function's bootstrap and returns the zip and the
// executable's architecture; ErrNotLambdaBinary when it cannot run in Lambda (a macOS or Windows
// launcher must pass a zip built for Linux).
func SelfCode(path string) ([]byte, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("lambda code: %w", err)
	}
	arch, err := ELFArchitecture(data)
	if err != nil {
		return nil, "", fmt.Errorf("lambda code: %s: %w", path, err)
	}
	z, err := ZipBootstrap(data)
	if err != nil {
		return nil, "", err
	}
	return z, arch, nil
}

// ZipBootstrap returns a zip holding data as the executable file bootstrap, what a
// provided.al2023 function runs.
func ZipBootstrap(data []byte) ([]byte, error) {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755) // Lambda runs the file with the mode the zip gives it
	w, err := zw.CreateHeader(h)
	if err == nil {
		_, err = w.Write(data)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("lambda code: zip: %w", err)
	}
	if b.Len() > maxLambdaZip {
		return nil, fmt.Errorf("lambda code: the zip is %d bytes, over Lambda's %d for a direct upload", b.Len(), maxLambdaZip)
	}
	return b.Bytes(), nil
}

// ZipCode checks a function zip (--lambda-zip) and returns its bootstrap's architecture.
func ZipCode(z []byte) (string, error) {
	if len(z) > maxLambdaZip {
		return "", fmt.Errorf("lambda code: the zip is %d bytes, over Lambda's %d for a direct upload", len(z), maxLambdaZip)
	}
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		return "", fmt.Errorf("lambda code: not a zip: %w", err)
	}
	f, err := zr.Open("bootstrap")
	if err != nil {
		return "", errors.New("lambda code: the zip has no file bootstrap at its top level")
	}
	defer f.Close()
	head := make([]byte, 64)
	n, _ := io.ReadFull(f, head)
	arch, err := ELFArchitecture(head[:n])
	if err != nil {
		return "", fmt.Errorf("lambda code: bootstrap: %w", err)
	}
	return arch, nil
}

// NeedsEvent is the probe's event for what a task definition needs (needs.Load, DescribeOrigin):
// its services, its ECR image, its secrets and parameters, as the event keys the probe reads.
func NeedsEvent(n *needs.Needs) map[string]any {
	ev := map[string]any{}
	if n == nil {
		return ev
	}
	if len(n.Services) > 0 {
		ev["services"] = strings.Join(n.Services, ",")
	}
	if n.Image != "" {
		ev["image"] = n.Image
	}
	if len(n.Secrets) > 0 {
		ev["secret"] = strings.Join(n.Secrets, ",")
	}
	if len(n.Parameters) > 0 {
		ev["parameter"] = strings.Join(n.Parameters, ",")
	}
	return ev
}
