// Package image holds the files the container image adds besides the binary — passwd and group,
// naming the non-root user vpcprobe (uid and gid 65532) — and the test that proves the image
// works: it builds the binary with the Dockerfile's own flags, assembles the final stage's file
// tree as the Dockerfile does, and runs the probe inside it (chroot, that uid, an empty
// environment, a private network namespace). It has no code: no Docker engine is needed to
// trust the image.
package image
