package topology

//go:generate go run ./internal/genbzl -o ../rules/private/presets.bzl -docs ../docs/reference.md
