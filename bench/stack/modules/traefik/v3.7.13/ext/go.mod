// Stand-in for traefik's nested module pkg/config/dynamic/ext (see bench/stack/README.md, "Traefik").
module github.com/traefik/traefik/dynamic/ext

go 1.24.0
