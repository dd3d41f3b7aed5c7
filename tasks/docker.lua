-- tasks/docker.lua: container images (runbook step 3b and step 10),
-- mirroring the original's publish-via-docker, publish-latest,
-- publish-final-images and the compose version bump.
-- SPDX-License-Identifier: MIT
--
-- Use from a vrun.lua that declares `project { ..., docker = { ... } }`,
-- after `include "release"` (this file's `publish` replaces the
-- placeholder there):
--   include "docker"
--
--   publish               every image of the current variant, tagged
--                         <PKG_TAG><EXTRA_DOCKER_TAG_SUFFIX> (and -scratch)
--                         on every registry
--   publish-latest        TAG=...: `latest` -> TAG's index (cluster images
--                         -> TAG-cluster), without rebuilding
--   publish-final-images  TAG=... EXTRA_DOCKER_TAG_SUFFIX=-rcN: promote
--                         the -rcN images to TAG, then publish-latest
--   bump-compose          TAG=...: set the image versions in the compose
--                         files (a diff under -n)
--
-- Variables (command line > environment > project.docker > default):
-- DOCKER_REGISTRIES, DOCKER_NAMESPACE, ROOT_IMAGE, CERTS_IMAGE,
-- DOCKER_BACKEND (auto, buildx or oci), DOCKER (the docker command),
-- EXTRA_DOCKER_TAG_SUFFIX, RACE (-race), PKG_TAG, SOURCE_DATE_EPOCH, and
-- DOCKER_USERNAME / DOCKER_PASSWORD for the registries.

local P = require "vrun.project"
local semver = require "vrun.semver"

local function say(fmt, ...)
  print(string.format(fmt, ...))
end

local function fail(fmt, ...)
  error(string.format(fmt, ...), 0)
end

local DEFAULT_PLATFORMS = { "linux/amd64", "linux/arm", "linux/arm64",
                            "linux/ppc64le", "linux/386" }

local KNOWN = {
  registries = "list", namespace = "string", images = "table",
  platforms = "list", root_image = "string", certs_image = "string",
  scratch = "boolean", backend = "string", insecure_registries = "list",
  ports = "table", ca_certs = "string", labels = "table",
  dockerfile = "string", compose_files = "list", concurrency = "number",
  compression_level = "number",
}

local function words(s)
  local t = {}
  for w in s:gmatch("%S+") do
    t[#t + 1] = w
  end
  return t
end

local function nonempty(v)
  return v ~= nil and v ~= ""
end

-- project.docker checked and filled with defaults; variables override.
local function config()
  local p = P.get()
  local d = p.docker or {}
  for k, v in pairs(d) do
    local want = KNOWN[k]
    if not want then
      fail("project.docker: unknown field '%s'", tostring(k))
    end
    local ok = (want == "list" and type(v) == "table") or type(v) == want
    if not ok then
      fail("project.docker.%s must be a %s", k, want)
    end
  end
  local c = {
    registries = d.registries or { "docker.io", "quay.io" },
    namespace = d.namespace or p.name,
    platforms = d.platforms or DEFAULT_PLATFORMS,
    root_image = d.root_image or "alpine:3.24.1",
    scratch = d.scratch ~= false,
    backend = d.backend or "auto",
    insecure = d.insecure_registries or {},
    ports = d.ports or {},
    ca_certs = d.ca_certs or "/etc/ssl/certs/ca-certificates.crt",
    labels = d.labels or {},
    dockerfile = d.dockerfile or "app/%s/multiarch/Dockerfile",
    compose_files = d.compose_files or
      { "deployment/docker/docker-compose*.yml" },
    concurrency = d.concurrency or 4,
    -- gzip level of the daemonless layers: 1 (fast, as ko and crane do)
    -- to 12 (smallest); libdeflate's 1 is as small as zlib's 3
    level = d.compression_level or 1,
    docker = var.DOCKER or "docker",
  }
  if nonempty(var.DOCKER_REGISTRIES) then
    c.registries = words(var.DOCKER_REGISTRIES)
  end
  if nonempty(var.DOCKER_NAMESPACE) then
    c.namespace = var.DOCKER_NAMESPACE
  end
  if nonempty(var.ROOT_IMAGE) then
    c.root_image = var.ROOT_IMAGE
  end
  c.certs_image = var.CERTS_IMAGE or d.certs_image or c.root_image
  if nonempty(var.DOCKER_BACKEND) then
    c.backend = var.DOCKER_BACKEND
  end
  if c.backend ~= "auto" and c.backend ~= "buildx" and c.backend ~= "oci"
  then
    fail("docker backend '%s' is not auto, buildx or oci", c.backend)
  end
  -- images: a list (the variant "") or a table variant -> list
  local imgs = d.images
  if imgs == nil then
    imgs = {}
    for _, a in ipairs(p.archives) do
      for _, b in ipairs(a.binaries) do
        imgs[#imgs + 1] = b
      end
    end
  end
  if imgs[1] ~= nil then
    imgs = { [""] = imgs }
  end
  c.images = imgs
  c.variants = p.variants
  c.github = p.github
  return c
end

-- The variant a tag belongs to: its longest matching suffix.
local function variant_of(c, tag)
  local best = ""
  for _, v in ipairs(c.variants) do
    if v ~= "" and #v > #best and tag:sub(-#v) == v then
      best = v
    end
  end
  return best
end

-- Images whose `latest` a variant owns: those no earlier variant has
-- (the original: 8 from TAG, cluster ones from TAG-cluster, vmgateway
-- and vmbackupmanager from TAG-enterprise).
local function latest_images(c)
  local seen, out = {}, {}
  for _, v in ipairs(c.variants) do
    for _, img in ipairs(c.images[v] or {}) do
      if not seen[img] then
        seen[img] = true
        out[#out + 1] = { variant = v, image = img }
      end
    end
  end
  return out
end

local function ref(c, reg, img, tag)
  return string.format("%s/%s/%s:%s", reg, c.namespace, img, tag)
end

local function use_buildx(c)
  if c.backend == "auto" then
    local docker = require "docker"
    c.backend = docker.engine(c.docker) and "buildx" or "oci"
    say("docker: backend %s (%s)", c.backend, c.backend == "buildx"
        and "a Docker engine answers" or "no Docker engine")
  end
  return c.backend == "buildx"
end

local function pkg_tag()
  local given = var.PKG_TAG
  if nonempty(given) then
    if given:find("[%s/]") then
      fail("PKG_TAG=%s must not contain spaces or '/'", given)
    end
    return given
  end
  local git = require "git"
  local tags = git.tags_at_head()
  if #tags ~= 1 then
    fail("%s: pass PKG_TAG=...", #tags == 0 and "no tag points at HEAD"
         or "several tags point at HEAD")
  end
  return tags[1]
end

local function epoch()
  local e = tonumber(var.SOURCE_DATE_EPOCH or "")
  if e then
    return math.floor(e)
  end
  local ok, git = pcall(require, "git")
  if ok then
    local hok, head = pcall(git.head)
    if hok and head and head.time then
      return head.time
    end
  end
  return 0
end

local function binary(img, plat)
  local os, arch = P.split(plat)
  return string.format("bin/%s-%s-%s-prod", img, os, arch:match("^[^/]+"))
end

local function labels(c, img, tag, created)
  local l = {
    ["org.opencontainers.image.title"] = img,
    ["org.opencontainers.image.version"] = tag,
    ["org.opencontainers.image.created"] = created,
  }
  if c.github then
    l["org.opencontainers.image.source"] = "https://github.com/" .. c.github
  end
  for k, v in pairs(c.labels) do
    l[k] = v
  end
  return l
end

-- The original's label order: source, documentation, title, vendor,
-- version, created; then any other, sorted.
local LABEL_ORDER = { "source", "documentation", "title", "vendor",
                      "version", "created" }
local function label_args(l)
  local out, done = {}, {}
  for _, k in ipairs(LABEL_ORDER) do
    local key = "org.opencontainers.image." .. k
    if l[key] then
      out[#out + 1] = key .. "=" .. l[key]
      done[key] = true
    end
  end
  local rest = {}
  for k in pairs(l) do
    if not done[k] then
      rest[#rest + 1] = k
    end
  end
  table.sort(rest)
  for _, k in ipairs(rest) do
    out[#out + 1] = k .. "=" .. l[k]
  end
  return out
end

local function publish_buildx(c, img, tag)
  local docker = require "docker"
  local created = os.date("!%Y-%m-%dT%H:%M:%SZ")
  local l = label_args(labels(c, img, pkg_tag(), created))
  for _, scratch in ipairs(c.scratch and { false, true } or { false }) do
    local tags = {}
    for _, reg in ipairs(c.registries) do
      tags[#tags + 1] = ref(c, reg, img, tag .. (scratch and "-scratch"
                                                   or ""))
    end
    docker.buildx {
      docker = c.docker,
      platforms = c.platforms,
      build_args = {
        "certs_image=" .. c.certs_image,
        "root_image=" .. (scratch and "scratch" or c.root_image),
        "APP_NAME=" .. img,
        "BINARY_SUFFIX=",
      },
      labels = l,
      tags = tags,
      file = string.format(c.dockerfile, img),
      context = "bin",
    }
  end
end

-- The options of docker.publish for one image (refs added per variant).
local function oci_spec(c, img, ep)
  local bins = {}
  for _, plat in ipairs(c.platforms) do
    bins[plat] = binary(img, plat)
  end
  local ports = c.ports[img]
  if type(ports) == "string" or type(ports) == "number" then
    ports = { ports }
  end
  local expose = {}
  for _, pt in ipairs(ports or {}) do
    pt = tostring(pt)
    expose[#expose + 1] = pt:find("/") and pt or (pt .. "/tcp")
  end
  return {
    platforms = c.platforms,
    binaries = bins,
    dest = "/" .. img .. "-prod",
    expose = expose,
    labels = labels(c, img, pkg_tag(), os.date("!%Y-%m-%dT%H:%M:%SZ", ep)),
    epoch = ep,
    insecure_registries = c.insecure,
    concurrency = c.concurrency,
    level = c.level,
    ca_certs = c.scratch and c.ca_certs or nil,
  }
end

local function publish_oci(c, img, tag, spec)
  local docker = require "docker"
  for _, scratch in ipairs(c.scratch and { false, true } or { false }) do
    local refs = {}
    for _, reg in ipairs(c.registries) do
      refs[#refs + 1] = ref(c, reg, img, tag .. (scratch and "-scratch"
                                                   or ""))
    end
    spec.refs = refs
    spec.base = not scratch and c.root_image or nil
    spec.ca_certs = scratch and c.ca_certs or nil
    local r = docker.publish(spec)
    if not dry_run() then
      say("docker: %s%s: %d blobs uploaded (%d bytes), %d already there, "
          .. "%d mounted", img, scratch and " (scratch)" or "", r.uploaded,
          r.bytes, r.skipped, r.mounted)
    end
  end
end

task "publish" {
  desc = "Build and push the multi-platform images of the current "
         .. "variant (PKG_TAG + EXTRA_DOCKER_TAG_SUFFIX, and -scratch)",
  modules = { "docker" },
  run = function(t)
    local p = P.get()
    local c = config()
    local ptag = pkg_tag()
    -- the original's <PKG_TAG><RACE><EXTRA_DOCKER_TAG_SUFFIX>
    local tag = ptag .. (var.RACE or "") .. (var.EXTRA_DOCKER_TAG_SUFFIX or "")
    local imgs = c.images[variant_of(c, ptag)]
    if not imgs or #imgs == 0 then
      say("publish: no images for variant '%s'", variant_of(c, ptag))
      return
    end
    P.build(p, c.platforms)
    local raw = {}
    for _, img in ipairs(imgs) do
      for _, plat in ipairs(c.platforms) do
        raw[#raw + 1] = binary(img, plat)
      end
    end
    P.check_built(raw)
    local buildx = use_buildx(c)
    if buildx then
      for _, img in ipairs(imgs) do
        publish_buildx(c, img, tag)
      end
    else
      -- every layer is queued first: the next images' layers compress
      -- while the first ones are pushed
      local docker = require "docker"
      local ep, specs = epoch(), {}
      for i, img in ipairs(imgs) do
        specs[i] = oci_spec(c, img, ep)
        docker.prepare(specs[i])
      end
      for i, img in ipairs(imgs) do
        publish_oci(c, img, tag, specs[i])
      end
    end
    -- as the original: the per-platform binaries go once pushed
    sh("rm -f " .. table.concat(raw, " "))
  end,
}

-- Point tag `to` at the index of tag `from`, on every registry.
local function retag(c, buildx, img, from, to)
  local docker = require "docker"
  for _, reg in ipairs(c.registries) do
    if buildx then
      docker.imagetools_create { docker = c.docker,
                                 tag = ref(c, reg, img, to),
                                 src = ref(c, reg, img, from) }
    else
      docker.retag { src = ref(c, reg, img, from),
                     tags = { ref(c, reg, img, to) },
                     insecure_registries = c.insecure }
    end
  end
end

local function publish_latest(c, buildx, tag)
  for _, x in ipairs(latest_images(c)) do
    retag(c, buildx, x.image, tag .. x.variant, "latest")
  end
end

task "publish-latest" {
  desc = "Point `latest` at TAG's images (cluster images at TAG-cluster) "
         .. "without rebuilding",
  needs = { "TAG" },
  modules = { "docker" },
  run = function(t)
    local c = config()
    local tag = semver.check_tag(var.TAG)
    publish_latest(c, use_buildx(c), tag)
  end,
}

task "publish-final-images" {
  desc = "Promote the TAG<variant><EXTRA_DOCKER_TAG_SUFFIX> images to "
         .. "TAG<variant> (and -scratch), then publish-latest",
  needs = { "TAG", "EXTRA_DOCKER_TAG_SUFFIX" },
  modules = { "docker" },
  run = function(t)
    local c = config()
    local tag = semver.check_tag(var.TAG)
    local sfx = var.EXTRA_DOCKER_TAG_SUFFIX or ""
    if sfx == "" then
      fail("EXTRA_DOCKER_TAG_SUFFIX is empty: pass the suffix to promote, "
           .. "e.g. EXTRA_DOCKER_TAG_SUFFIX=-rc1")
    end
    local buildx = use_buildx(c)
    for _, v in ipairs(c.variants) do
      for _, img in ipairs(c.images[v] or {}) do
        retag(c, buildx, img, tag .. v .. sfx, tag .. v)
        if c.scratch then
          retag(c, buildx, img, tag .. v .. sfx .. "-scratch",
                tag .. v .. "-scratch")
        end
      end
    end
    publish_latest(c, buildx, tag)
  end,
}

task "bump-compose" {
  desc = "Set the image versions in the compose files to TAG (a diff "
         .. "under -n)",
  needs = { "TAG" },
  modules = { "docker" },
  run = function(t)
    local docker = require "docker"
    local c = config()
    local tag = semver.check_tag(var.TAG)
    local names, seen = {}, {}
    for _, v in ipairs(c.variants) do
      for _, img in ipairs(c.images[v] or {}) do
        local n = c.namespace .. "/" .. img
        if not seen[n] then
          seen[n] = true
          names[#names + 1] = n
        end
      end
    end
    local changed = docker.bump_compose { files = c.compose_files,
                                          images = names, tag = tag }
    if #changed == 0 then
      say("bump-compose: every image is already at %s", tag)
    end
  end,
}
