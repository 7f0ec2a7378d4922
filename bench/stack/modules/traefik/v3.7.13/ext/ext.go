// Package ext stands in for traefik's nested module github.com/traefik/traefik/dynamic/ext, which
// traefik's go.mod replaces with ./pkg/config/dynamic/ext: a directory the v3 module zip leaves out (a
// nested module) and a path the proxy cannot serve. Upstream's release builds it as extension points
// with no fields, and traefik v3.7.13 uses only these two, embedded inline in dynamic.HTTPConfiguration
// and dynamic.Router; empty, they add nothing to the configuration.
package ext

// HTTP is embedded in dynamic.HTTPConfiguration.
type HTTP struct{}

// Router is embedded in dynamic.Router.
type Router struct{}
