// Package local declares specs in variables.
package local
