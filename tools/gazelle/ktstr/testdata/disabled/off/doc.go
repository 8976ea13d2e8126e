// Package off turns the extension off.
package off
