#!/usr/bin/env bash
# Bundles the test page (app.jsx) into out/ with the esbuild binary npm installed (install
# scripts are off, so esbuild's own wrapper has no binary to call).
set -euo pipefail
cd "$(dirname "$0")"
./node_modules/@esbuild/linux-x64/bin/esbuild app.jsx --bundle --outdir=out --log-level=warning \
  --define:process.env.NODE_ENV='"production"' --define:global=window --loader:.js=jsx \
  --loader:.ttf=dataurl --loader:.woff=dataurl --loader:.woff2=dataurl --loader:.svg=dataurl \
  --loader:.eot=dataurl --loader:.otf=dataurl --loader:.png=dataurl --minify
