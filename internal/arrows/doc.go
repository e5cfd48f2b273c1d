// Package arrows holds the test that keeps the README's package map true: the layers drawn in
// README.md's Development section are the only imports allowed between the project's packages.
package arrows
