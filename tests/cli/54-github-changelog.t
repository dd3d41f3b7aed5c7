#!/usr/bin/env bash
# 54-github-changelog.t: lua/vrun/changelog.lua cuts the section of one
# tag out of a CHANGELOG written the way the original project writes it.
# SPDX-License-Identifier: MIT
. "$(dirname "$0")/../lib/tap.sh"

cd "$T" || exit 1
cat >CHANGELOG.md <<'EOF'
# Changelog

Intro text.

## tip

* FEATURE: unreleased

## [v1.150.0](https://github.com/o/r/releases/tag/v1.150.0)

Released at 2026-08-21

* FEATURE: one
```sh
## not a heading inside a fence
```
### Sub heading stays

* BUGFIX: two

## [v1.150.0-rc1](https://x)

* rc notes

## v1.149.0

* bare heading

## [v1.148.0](https://x)

## [v1.147.0](https://x)

* after an empty one
EOF
cat >vrun.lua <<'EOF'
task "cut" { run = function()
  local cl = require "vrun.changelog"
  local body, why = cl.section("CHANGELOG.md", var.V)
  io.write(body or ("ERR " .. why), "\n")
end }
EOF

vr cut V=v1.150.0
is "$rc" 0 "a section is found"
is "$out" "$(printf 'Released at 2026-08-21\n\n* FEATURE: one\n```sh\n## not a heading inside a fence\n```\n### Sub heading stays\n\n* BUGFIX: two')" \
  "the section runs to the next '## ' heading, fences and ### included"
vr cut V=v1.150.0-rc1
is "$out" "* rc notes" "a longer tag is matched exactly, not by prefix"
vr cut V=v1.149.0
is "$out" "* bare heading" "a bare '## v1.149.0' heading works too"
vr cut V=v1.148.0
is "$out" "ERR CHANGELOG.md: the section for v1.148.0 is empty" \
  "an empty section is reported"
vr cut V=v1.147.0
is "$out" "* after an empty one" "the section after an empty one is intact"
vr cut V=v1.151.0
is "$out" "ERR CHANGELOG.md: no '## [v1.151.0](...)' section (there is a '## tip' section: rename it to '## [v1.151.0](...)' when releasing)" \
  "a missing section names the file and hints at '## tip'"
vr cut V=v1.150.0.1
like "$out" "^ERR CHANGELOG.md: no '## \[v1.150.0.1\]" "no partial matches"
done_testing
