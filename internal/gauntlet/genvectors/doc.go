// Command genvectors writes rules/private/vectors.bzl, the Starlark copy
// of the gauntlet model's shared test vectors (`go generate
// ./internal/gauntlet`).
package main
