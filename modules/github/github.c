/*
** github.c: the github module's Lua face: a client per repository with
** GitHub release calls, plus JSON and file helpers for tasks/github.lua.
** SPDX-License-Identifier: MIT
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>

#include <lauxlib.h>
#include <lua.h>

#include "github.h"

#define CLIENT_MT "vrun.github.client"
#define DEFAULT_API "https://api.github.com"

const struct vrun_host *github_host;

static int dry(void)
{
  return github_host->dry_run(github_host->ctx);
}

#define say(...) github_host->log(github_host->ctx, VRUN_LOG_INFO, __VA_ARGS__)

/*
** {======================================================================
** JSON <-> Lua
** =======================================================================
*/
static void push_json(lua_State *L, const cJSON *j, int depth)
{
  const cJSON *it;
  lua_Integer i = 1;

  luaL_checkstack(L, 4, "JSON too deep");
  if(depth > 64) {
    lua_pushnil(L);
    return;
  }
  if(cJSON_IsString(j))
    lua_pushstring(L, j->valuestring);
  else if(cJSON_IsNumber(j)) {
    double d = j->valuedouble;
    if(d >= -9007199254740992.0 && d <= 9007199254740992.0 &&
       d == (double)(long long)d)
      lua_pushinteger(L, (lua_Integer)d);
    else
      lua_pushnumber(L, d);
  }
  else if(cJSON_IsBool(j))
    lua_pushboolean(L, cJSON_IsTrue(j));
  else if(cJSON_IsArray(j)) {
    lua_createtable(L, cJSON_GetArraySize(j), 0);
    cJSON_ArrayForEach(it, j) {
      if(cJSON_IsNull(it))
        lua_pushboolean(L, 0);  /* keep the sequence without holes */
      else
        push_json(L, it, depth + 1);
      lua_rawseti(L, -2, i++);
    }
  }
  else if(cJSON_IsObject(j)) {
    lua_newtable(L);
    cJSON_ArrayForEach(it, j) {
      if(cJSON_IsNull(it) || !it->string)
        continue;
      push_json(L, it, depth + 1);
      lua_setfield(L, -2, it->string);
    }
  }
  else
    lua_pushnil(L);
}

/* Build cJSON from the Lua value at idx; NULL (with msg) if it cannot. */
static cJSON *to_json(lua_State *L, int idx, int depth, const char **msg)
{
  cJSON *j, *v;
  lua_Integer n, i;

  idx = lua_absindex(L, idx);
  if(depth > 64) {
    *msg = "table nested too deep";
    return NULL;
  }
  switch(lua_type(L, idx)) {
  case LUA_TSTRING:
    return cJSON_CreateString(lua_tostring(L, idx));
  case LUA_TBOOLEAN:
    return cJSON_CreateBool(lua_toboolean(L, idx));
  case LUA_TNUMBER:
    return cJSON_CreateNumber(lua_tonumber(L, idx));
  case LUA_TNIL:
    return cJSON_CreateNull();
  case LUA_TTABLE:
    break;
  default:
    *msg = "only strings, numbers, booleans and tables become JSON";
    return NULL;
  }
  n = (lua_Integer)lua_rawlen(L, idx);
  if(n > 0) {
    j = cJSON_CreateArray();
    for(i = 1; j && i <= n; i++) {
      lua_rawgeti(L, idx, i);
      v = to_json(L, -1, depth + 1, msg);
      lua_pop(L, 1);
      if(!v) {
        cJSON_Delete(j);
        return NULL;
      }
      cJSON_AddItemToArray(j, v);
    }
    return j;
  }
  j = cJSON_CreateObject();
  lua_pushnil(L);
  while(j && lua_next(L, idx)) {
    if(lua_type(L, -2) != LUA_TSTRING) {
      lua_pop(L, 2);
      cJSON_Delete(j);
      *msg = "JSON object keys must be strings";
      return NULL;
    }
    v = to_json(L, -1, depth + 1, msg);
    if(!v) {
      lua_pop(L, 2);
      cJSON_Delete(j);
      return NULL;
    }
    cJSON_AddItemToObject(j, lua_tostring(L, -2), v);
    lua_pop(L, 1);
  }
  return j;
}

static int l_json_encode(lua_State *L)
{
  const char *msg = "out of memory";
  cJSON *j = to_json(L, 1, 0, &msg);
  char *s;

  if(!j)
    return luaL_error(L, "github.json_encode: %s", msg);
  s = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  if(!s)
    return luaL_error(L, "github.json_encode: out of memory");
  lua_pushstring(L, s);
  cJSON_free(s);
  return 1;
}

static int l_json_decode(lua_State *L)
{
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  cJSON *j = cJSON_ParseWithLength(s, len);

  if(!j) {
    lua_pushnil(L);
    lua_pushstring(L, "not valid JSON");
    return 2;
  }
  push_json(L, j, 0);
  cJSON_Delete(j);
  return 1;
}
/* }====================================================================== */

/*
** {======================================================================
** Files
** =======================================================================
*/
static int l_sha256_file(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  unsigned char md[32];
  char hex[65];
  struct vrun_err err = { 0, "" };
  int i;

  if(github_host->sha256_file(github_host->ctx, path, md, &err))
    return luaL_error(L, "%s", err.msg);
  for(i = 0; i < 32; i++)
    snprintf(hex + 2 * i, 3, "%02x", md[i]);
  lua_pushstring(L, hex);
  return 1;
}

/* write_file(path, data): atomic; nothing is written under -n. */
static int l_write_file(lua_State *L)
{
  size_t len;
  const char *path = luaL_checkstring(L, 1);
  const char *data = luaL_checklstring(L, 2, &len);
  struct vrun_err err = { 0, "" };

  if(github_host->write_file(github_host->ctx, path, data, len, &err))
    return luaL_error(L, "%s", err.msg);
  return 0;
}
/* list_dir(dir) -> sorted array of the names of regular files in dir,
** or nil and a message. */
static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int l_list_dir(lua_State *L)
{
  const char *dir = luaL_checkstring(L, 1);
  DIR *d = opendir(dir);
  struct dirent *e;
  char **names = NULL, **grown;
  size_t n = 0, cap = 0, i;
  struct stat st;
  char path[4096];

  if(!d) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", dir, strerror(errno));
    return 2;
  }
  for(;;) {
    e = readdir(d);
    if(!e)
      break;
    if(e->d_name[0] == '.')
      continue;
    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
    if(stat(path, &st) || !S_ISREG(st.st_mode))
      continue;
    if(n == cap) {
      cap = cap ? cap * 2 : 64;
      grown = realloc(names, cap * sizeof(*names));
      if(!grown)
        break;
      names = grown;
    }
    names[n] = strdup(e->d_name);
    if(names[n])
      n++;
  }
  closedir(d);
  if(n)
    qsort(names, n, sizeof(*names), cmp_str);
  lua_createtable(L, (int)n, 0);
  for(i = 0; i < n; i++) {
    lua_pushstring(L, names[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
    free(names[i]);
  }
  free(names);
  return 1;
}

/* file_size(path) -> bytes, or nil and a message. */
static int l_file_size(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  struct stat st;

  if(stat(path, &st)) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", path, strerror(errno));
    return 2;
  }
  lua_pushinteger(L, (lua_Integer)st.st_size);
  return 1;
}
/* }====================================================================== */

/*
** {======================================================================
** Output and run state, for tasks/github.lua (masked like all output)
** =======================================================================
*/
static int log_at(lua_State *L, int level)
{
  const char *msg = luaL_checkstring(L, 1);

  github_host->log(github_host->ctx, level, "%s", msg);
  return 0;
}

static int l_info(lua_State *L)
{
  return log_at(L, VRUN_LOG_INFO);
}

static int l_warn(lua_State *L)
{
  return log_at(L, VRUN_LOG_WARN);
}

static int l_verbose(lua_State *L)
{
  return log_at(L, VRUN_LOG_VERBOSE);
}

static int l_dry_run(lua_State *L)
{
  lua_pushboolean(L, dry());
  return 1;
}
/* }====================================================================== */

/*
** {======================================================================
** The client
** =======================================================================
*/
static struct github_client *check_client(lua_State *L)
{
  struct github_client **pc = luaL_checkudata(L, 1, CLIENT_MT);

  if(!*pc)
    luaL_error(L, "github client already closed");
  return *pc;
}

static void client_free(struct github_client *c)
{
  if(!c)
    return;
  free(c->api);
  free(c->repo);
  if(c->token) {
    memset(c->token, 0, strlen(c->token));
    free(c->token);
  }
  if(c->auth_hdr) {
    memset(c->auth_hdr, 0, strlen(c->auth_hdr));
    free(c->auth_hdr);
  }
  free(c);
}

static int l_client_gc(lua_State *L)
{
  struct github_client **pc = luaL_checkudata(L, 1, CLIENT_MT);

  client_free(*pc);
  *pc = NULL;
  return 0;
}

/* An option from the table at index 1, else the variable, else NULL. */
static const char *opt_or_var(lua_State *L, const char *field,
                              const char *var)
{
  const char *v = NULL;

  if(lua_istable(L, 1)) {
    lua_getfield(L, 1, field);
    if(lua_isstring(L, -1))
      v = lua_tostring(L, -1);
    lua_pop(L, 1);  /* the string stays alive in the options table */
  }
  if((!v || !*v) && var)
    v = github_host->var_get(github_host->ctx, var);
  return v && *v ? v : NULL;
}

static long num_var(const char *name, long dflt, long lo, long hi)
{
  const char *v = github_host->var_get(github_host->ctx, name);
  char *end;
  long n;

  if(!v || !*v)
    return dflt;
  errno = 0;
  n = strtol(v, &end, 10);
  if(errno || *end || n < lo || n > hi) {
    github_host->log(github_host->ctx, VRUN_LOG_WARN,
                     "github: ignoring %s=%s (want a number from %ld to "
                     "%ld)", name, v, lo, hi);
    return dflt;
  }
  return n;
}

/* "owner/repo": exactly one slash, both parts non-empty, no spaces. */
static int repo_ok(const char *r)
{
  const char *slash = strchr(r, '/');

  return slash && slash != r && slash[1] && !strchr(slash + 1, '/') &&
         !strpbrk(r, " \t\r\n?#%");
}

/* github.client{ repo = "owner/repo", api_url =, token =, concurrency = }
** api_url defaults to GITHUB_API_URL, then https://api.github.com; the
** token to GITHUB_TOKEN. */
static int l_client(lua_State *L)
{
  struct github_client **pc;
  struct github_client *c;
  const char *repo, *api, *token;
  size_t n;

  luaL_checktype(L, 1, LUA_TTABLE);
  repo = opt_or_var(L, "repo", "GITHUB_REPO");
  if(!repo)
    return luaL_error(L, "github.client: no repository: set github = "
                      "\"owner/repo\" in project {} or GITHUB_REPO");
  if(!repo_ok(repo))
    return luaL_error(L, "github.client: '%s' is not an owner/repo name",
                      repo);
  api = opt_or_var(L, "api_url", "GITHUB_API_URL");
  if(!api)
    api = DEFAULT_API;
  if(strncmp(api, "https://", 8) && strncmp(api, "http://", 7))
    return luaL_error(L, "github.client: GITHUB_API_URL '%s' is not an "
                      "http(s) URL", api);
  token = opt_or_var(L, "token", "GITHUB_TOKEN");
  if(token)
    github_host->secret(github_host->ctx, token);
  if(token && token[strcspn(token, " \t\r\n\v\f")])
    return luaL_error(L, "GITHUB_TOKEN contains whitespace: copy the "
                      "token again without spaces or line breaks");
  if(!token && !dry())
    return luaL_error(L, "GITHUB_TOKEN is not set: it must hold a GitHub "
                      "token with the %s scopes for %s (create one at "
                      "https://github.com/settings/tokens)",
                      GITHUB_SCOPES, repo);
  if(!token)
    github_host->log(github_host->ctx, VRUN_LOG_WARN,
                     "GITHUB_TOKEN is not set; a real run would stop here");

  pc = lua_newuserdatauv(L, sizeof(*pc), 0);
  *pc = NULL;
  luaL_setmetatable(L, CLIENT_MT);
  c = calloc(1, sizeof(*c));
  if(!c)
    return luaL_error(L, "out of memory");
  *pc = c;  /* from here __gc frees it, even if we raise */
  c->api = strdup(api);
  n = c->api ? strlen(c->api) : 0;
  while(n && c->api[n - 1] == '/')
    c->api[--n] = '\0';
  c->repo = strdup(repo);
  n = c->repo ? strlen(c->repo) : 0;
  if(n > 4 && !strcmp(c->repo + n - 4, ".git"))
    c->repo[n - 4] = '\0';
  if(token) {
    c->token = strdup(token);
    c->auth_hdr = github_aprintf("Authorization: Bearer %s", token);
  }
  if(!c->api || !c->repo || (token && (!c->token || !c->auth_hdr)))
    return luaL_error(L, "out of memory");
  snprintf(c->ua_hdr, sizeof(c->ua_hdr), "User-Agent: vrun/%s",
           github_host->vrun_version ? github_host->vrun_version : "0");
  lua_getfield(L, 1, "concurrency");
  c->concurrency = (int)luaL_optinteger(L, -1, 0);
  lua_pop(L, 1);
  if(c->concurrency <= 0)
    c->concurrency = (int)num_var("GITHUB_UPLOAD_CONCURRENCY", 4, 1, 32);
  c->pace_ms = num_var("GITHUB_PACE_MS", 1000, 0, 60000);
  return 1;
}

static int l_client_info(lua_State *L)
{
  struct github_client *c = check_client(L);

  lua_newtable(L);
  lua_pushstring(L, c->repo);
  lua_setfield(L, -2, "repo");
  lua_pushstring(L, c->api);
  lua_setfield(L, -2, "api_url");
  lua_pushboolean(L, c->token != NULL);
  lua_setfield(L, -2, "has_token");
  lua_pushinteger(L, c->concurrency);
  lua_setfield(L, -2, "concurrency");
  return 1;
}

/* Raise with err's message; the caller has freed its C resources. */
static int raise_err(lua_State *L, const struct vrun_err *err)
{
  lua_pushstring(L, err->msg);
  return lua_error(L);
}

/* Copy the next word of a ", "-separated list at *p into buf; 0 at the
** end of the list. */
static int next_word(const char **p, char *buf, size_t size)
{
  size_t n;

  *p += strspn(*p, ", ");
  n = strcspn(*p, ", ");
  if(!n)
    return 0;
  snprintf(buf, size, "%.*s", (int)n, *p);
  *p += n;
  return 1;
}

/* Has scope `want` been granted, directly or through a wider scope? */
static int has_scope(const char *have, const char *want)
{
  static const char *const implied[][3] = {
    { "read:org", "write:org", "admin:org" },
    { "write:org", "admin:org", NULL },
    { "read:packages", "write:packages", NULL },
    { "repo:status", "repo", NULL },
    { "public_repo", "repo", NULL },
  };
  char tok[128];
  const char *p = have;
  size_t i, k;

  while(next_word(&p, tok, sizeof(tok))) {
    if(!strcmp(tok, want))
      return 1;
    for(i = 0; i < sizeof(implied) / sizeof(implied[0]); i++) {
      if(strcmp(implied[i][0], want))
        continue;
      for(k = 1; k < 3; k++)
        if(implied[i][k] && !strcmp(implied[i][k], tok))
          return 1;
    }
  }
  return 0;
}

/* c:check_scopes([scopes]) -> the token's scope string, or nil when
** GitHub does not report scopes (fine-grained tokens, apps). Raises
** naming the missing scopes. */
static int l_check_scopes(lua_State *L)
{
  struct github_client *c = check_client(L);
  const char *need = luaL_optstring(L, 2, GITHUB_SCOPES);
  struct vrun_http_response resp;
  struct vrun_err err = { 0, "" };
  char have[512], missing[512], tok[128];
  const char *p;
  char *url;
  int rc;

  url = github_aprintf("%s/repos/%s/releases?per_page=1", c->api, c->repo);
  if(!url)
    return luaL_error(L, "out of memory");
  if(dry()) {
    say("github: would GET %s to check the token's scopes (%s)", url,
        need);
    free(url);
    return 0;
  }
  rc = github_call(c, "GET", url, NULL, 0, NULL, &resp, &err);
  free(url);
  if(rc != VRUN_OK || resp.status != 200) {
    github_fail(c, rc, &resp, "checking the token", &err);
    github_resp_free(&resp);
    return raise_err(L, &err);
  }
  rc = github_host->http_header(&resp, "x-oauth-scopes", have,
                                sizeof(have));
  github_resp_free(&resp);
  if(rc != VRUN_OK) {
    github_host->log(github_host->ctx, VRUN_LOG_VERBOSE,
                     "github: the token's scopes are not reported "
                     "(fine-grained token or app); not checked");
    return 0;
  }
  missing[0] = '\0';
  p = need;
  while(next_word(&p, tok, sizeof(tok))) {
    size_t used = strlen(missing);
    if(!has_scope(have, tok))
      snprintf(missing + used, sizeof(missing) - used, "%s%s",
               used ? ", " : "", tok);
  }
  if(missing[0])
    return luaL_error(L, "the GITHUB_TOKEN lacks the scope%s %s (it has: "
                      "%s); releasing to %s needs %s: create a token at "
                      "https://github.com/settings/tokens",
                      strchr(missing, ',') ? "s" : "", missing,
                      have[0] ? have : "none", c->repo, need);
  lua_pushstring(L, have);
  return 1;
}

/* c:releases_by_tag(tag) -> every release (drafts too) named by tag,
** newest first, from the list endpoint: get-by-tag never shows drafts. */
static int l_releases_by_tag(lua_State *L)
{
  struct github_client *c = check_client(L);
  const char *tag = luaL_checkstring(L, 2);
  struct vrun_err err = { 0, "" };
  char *url;
  cJSON *all;
  const cJSON *r;
  lua_Integer i = 1;

  url = github_aprintf("%s/repos/%s/releases?per_page=100", c->api,
                       c->repo);
  if(!url)
    return luaL_error(L, "out of memory");
  if(dry()) {
    say("github: would GET %s (every page) to find release %s", url,
        tag);
    free(url);
    lua_newtable(L);
    return 1;
  }
  all = github_get_all(c, url, "listing releases", &err);
  free(url);
  if(!all)
    return raise_err(L, &err);
  lua_newtable(L);
  cJSON_ArrayForEach(r, all) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "tag_name");
    if(cJSON_IsString(t) && !strcmp(t->valuestring, tag)) {
      push_json(L, r, 0);
      lua_rawseti(L, -2, i++);
    }
  }
  cJSON_Delete(all);
  return 1;
}

/* The placeholder a dry run returns for release `id`. */
static void push_placeholder(lua_State *L, struct github_client *c,
                             lua_Integer id, const char *tag)
{
  char *up = github_upload_guess(c, id);

  lua_newtable(L);
  lua_pushinteger(L, id);
  lua_setfield(L, -2, "id");
  lua_pushboolean(L, 1);
  lua_setfield(L, -2, "draft");
  lua_pushboolean(L, 1);
  lua_setfield(L, -2, "dry_run");
  if(tag) {
    lua_pushstring(L, tag);
    lua_setfield(L, -2, "tag_name");
  }
  if(up) {
    lua_pushfstring(L, "%s{?name,label}", up);
    lua_setfield(L, -2, "upload_url");
    free(up);
  }
  lua_newtable(L);
  lua_setfield(L, -2, "assets");
}

/* c:get_release(id) -> release, or nil, "not found" on 404. */
static int l_get_release(lua_State *L)
{
  struct github_client *c = check_client(L);
  lua_Integer id = luaL_checkinteger(L, 2);
  struct vrun_http_response resp;
  struct vrun_err err = { 0, "" };
  cJSON *j;
  char *url;
  int rc;

  url = github_aprintf("%s/repos/%s/releases/%lld", c->api, c->repo,
                       (long long)id);
  if(!url)
    return luaL_error(L, "out of memory");
  if(dry()) {
    say("github: would GET %s", url);
    free(url);
    push_placeholder(L, c, id, NULL);
    return 1;
  }
  rc = github_call(c, "GET", url, NULL, 0, NULL, &resp, &err);
  free(url);
  if(rc == VRUN_OK && resp.status == 404) {
    github_resp_free(&resp);
    lua_pushnil(L);
    lua_pushliteral(L, "not found");
    return 2;
  }
  if(rc != VRUN_OK || resp.status != 200) {
    github_fail(c, rc, &resp, "reading the release", &err);
    github_resp_free(&resp);
    return raise_err(L, &err);
  }
  j = github_parse(&resp, "reading the release", &err);
  github_resp_free(&resp);
  if(!j)
    return raise_err(L, &err);
  push_json(L, j, 0);
  cJSON_Delete(j);
  return 1;
}

/* The JSON text of the fields table at idx, checked for the fields the
** contract allows; NULL with *msg on a bad field. */
static char *release_body(lua_State *L, int idx, int create,
                          const char **msg)
{
  /* the contract's fields, in its order (also the order sent) */
  static const char *const fields[] = { "tag_name", "target_commitish",
    "name", "body", "draft", "prerelease", "discussion_category_name",
    "generate_release_notes", "make_latest", NULL };
  cJSON *j;
  const char *k, *v;
  char *s;
  int i, t;

  luaL_checktype(L, idx, LUA_TTABLE);
  lua_pushnil(L);
  while(lua_next(L, idx)) {
    k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
    for(i = 0; fields[i] && strcmp(k, fields[i]); i++)
      ;
    lua_pop(L, 1);
    if(!fields[i] || (!create && !strcmp(k, "generate_release_notes"))) {
      lua_pop(L, 1);
      *msg = "unknown release field (see docs/modules/github.md)";
      return NULL;
    }
  }
  j = cJSON_CreateObject();
  if(!j) {
    *msg = "out of memory";
    return NULL;
  }
  for(i = 0; fields[i]; i++) {
    t = lua_getfield(L, idx, fields[i]);
    k = fields[i];
    if(t == LUA_TNIL) {
      lua_pop(L, 1);
      continue;
    }
    if(!strcmp(k, "draft") || !strcmp(k, "prerelease") ||
       !strcmp(k, "generate_release_notes")) {
      if(t != LUA_TBOOLEAN) {
        *msg = "draft, prerelease and generate_release_notes are booleans";
        goto bad;
      }
      cJSON_AddBoolToObject(j, k, lua_toboolean(L, -1));
    }
    else {
      if(t != LUA_TSTRING) {
        *msg = "a release text field is not a string";
        goto bad;
      }
      v = lua_tostring(L, -1);
      if(!strcmp(k, "make_latest") && strcmp(v, "true") &&
         strcmp(v, "false") && strcmp(v, "legacy")) {
        *msg = "make_latest must be \"true\", \"false\" or \"legacy\"";
        goto bad;
      }
      cJSON_AddStringToObject(j, k, v);
    }
    lua_pop(L, 1);
  }
  if(create && !cJSON_GetObjectItemCaseSensitive(j, "tag_name")) {
    *msg = "tag_name is required";
    cJSON_Delete(j);
    return NULL;
  }
  s = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  if(!s)
    *msg = "out of memory";
  return s;
bad:
  lua_pop(L, 1);
  cJSON_Delete(j);
  return NULL;
}

/* A release with tag `tag` that appeared after a failed create, or NULL:
** GitHub sometimes fails a request that did in fact succeed. */
static cJSON *find_new_draft(struct github_client *c, const char *tag,
                             struct vrun_err *err)
{
  char *url = github_aprintf("%s/repos/%s/releases?per_page=100", c->api,
                             c->repo);
  cJSON *all, *r, *hit = NULL;

  if(!url)
    return NULL;
  all = github_get_all(c, url, "listing releases", err);
  free(url);
  if(!all)
    return NULL;
  cJSON_ArrayForEach(r, all) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "tag_name");
    if(cJSON_IsString(t) && !strcmp(t->valuestring, tag) &&
       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "draft"))) {
      hit = cJSON_DetachItemViaPointer(all, r);
      break;
    }
  }
  cJSON_Delete(all);
  return hit;
}

/* Create and update share the workflow-file hint: GitHub answers 404 (or
** 403 "Resource not accessible by integration") when the tag's commit
** touches .github/workflows/ and the token may not change workflows. */
static int workflow_fail(struct github_client *c, int rc,
                         const struct vrun_http_response *resp,
                         const char *what, struct vrun_err *err)
{
  if(rc == VRUN_OK && (resp->status == 404 ||
     (resp->status == 403 && resp->body &&
      strstr(resp->body, "Resource not accessible by integration"))))
    return github_err(err, VRUN_EHTTP,
                        "GitHub answered %ld while %s in %s although the "
                        "repository is readable: the tag's commit probably "
                        "adds or changes files under .github/workflows/ "
                        "and the token may not modify workflows (a classic "
                        "token needs the 'workflow' scope, a fine-grained "
                        "token or app 'Workflows: write'; the Actions "
                        "GITHUB_TOKEN never can)", resp->status, what,
                        c->repo);
  return github_fail(c, rc, resp, what, err);
}

/* c:create_release{ tag_name =, name =, body =, draft =, ... } */
static int l_create_release(lua_State *L)
{
  static const int final[] = { 500, 502, 503, 504, 0 };
  struct github_client *c = check_client(L);
  struct vrun_http_response resp;
  struct vrun_err err = { 0, "" };
  const char *msg = "";
  const char *tag;
  char what[200];
  char *body, *url;
  cJSON *j = NULL;
  int rc, attempt;

  body = release_body(L, 2, 1, &msg);
  if(!body)
    return luaL_error(L, "github create_release: %s", msg);
  lua_getfield(L, 2, "tag_name");
  tag = lua_tostring(L, -1);
  snprintf(what, sizeof(what), "creating release %s", tag);
  url = github_aprintf("%s/repos/%s/releases", c->api, c->repo);
  if(!url) {
    free(body);
    return luaL_error(L, "out of memory");
  }
  if(dry()) {
    github_host->log(github_host->ctx, VRUN_LOG_INFO,
                     "github: would POST %s: %s", url, body);
    free(url);
    free(body);
    push_placeholder(L, c, 0, tag);
    return 1;
  }
  for(attempt = 1; attempt <= 3; attempt++) {
    rc = github_call(c, "POST", url, body, 1, final, &resp, &err);
    if(rc == VRUN_OK && resp.status == 201) {
      j = github_parse(&resp, what, &err);
      github_resp_free(&resp);
      break;
    }
    if((rc == VRUN_OK && resp.status >= 500) || rc == VRUN_ENET) {
      /* did it land anyway? then use it instead of making a second */
      github_host->log(github_host->ctx, VRUN_LOG_WARN,
                       "github: %s failed (HTTP %ld); checking whether "
                       "it was created", what, resp.status);
      github_fail(c, rc, &resp, what, &err);
      github_resp_free(&resp);
      j = find_new_draft(c, tag, &err);
      if(j || attempt == 3)
        break;
      continue;
    }
    workflow_fail(c, rc, &resp, what, &err);
    github_resp_free(&resp);
    break;
  }
  free(url);
  free(body);
  if(!j)
    return raise_err(L, &err);
  push_json(L, j, 0);
  cJSON_Delete(j);
  return 1;
}

/* c:update_release(id, fields) -> the updated release. */
static int l_update_release(lua_State *L)
{
  struct github_client *c = check_client(L);
  lua_Integer id = luaL_checkinteger(L, 2);
  struct vrun_http_response resp;
  struct vrun_err err = { 0, "" };
  const char *msg = "";
  char what[100];
  char *body, *url;
  cJSON *j;
  int rc;

  body = release_body(L, 3, 0, &msg);
  if(!body)
    return luaL_error(L, "github update_release: %s", msg);
  url = github_aprintf("%s/repos/%s/releases/%lld", c->api, c->repo,
                       (long long)id);
  if(!url) {
    free(body);
    return luaL_error(L, "out of memory");
  }
  snprintf(what, sizeof(what), "updating release %lld", (long long)id);
  if(dry()) {
    say("github: would PATCH %s: %s", url, body);
    free(url);
    free(body);
    push_placeholder(L, c, id, NULL);
    return 1;
  }
  rc = github_call(c, "PATCH", url, body, 1, NULL, &resp, &err);
  free(url);
  free(body);
  if(rc != VRUN_OK || resp.status != 200) {
    if(rc == VRUN_OK && resp.status == 422 && resp.body &&
       strstr(resp.body, "immutable"))
      github_err(&err, VRUN_EHTTP, "release %lld in %s is immutable: "
                   "it can no longer change", (long long)id, c->repo);
    else
      workflow_fail(c, rc, &resp, what, &err);
    github_resp_free(&resp);
    return raise_err(L, &err);
  }
  j = github_parse(&resp, what, &err);
  github_resp_free(&resp);
  if(!j)
    return raise_err(L, &err);
  push_json(L, j, 0);
  cJSON_Delete(j);
  return 1;
}

/* DELETE a release or an asset: true, or nil, "not found" on 404. */
static int delete_thing(lua_State *L, const char *fmt, const char *what)
{
  struct github_client *c = check_client(L);
  lua_Integer id = luaL_checkinteger(L, 2);
  struct vrun_http_response resp;
  struct vrun_err err = { 0, "" };
  char *url;
  int rc;

  url = github_aprintf(fmt, c->api, c->repo, (long long)id);
  if(!url)
    return luaL_error(L, "out of memory");
  if(dry()) {
    say("github: would DELETE %s", url);
    free(url);
    lua_pushboolean(L, 1);
    return 1;
  }
  rc = github_call(c, "DELETE", url, NULL, 1, NULL, &resp, &err);
  free(url);
  if(rc == VRUN_OK && resp.status == 204) {
    github_resp_free(&resp);
    lua_pushboolean(L, 1);
    return 1;
  }
  if(rc == VRUN_OK && resp.status == 404) {
    github_resp_free(&resp);
    lua_pushnil(L);
    lua_pushliteral(L, "not found");
    return 2;
  }
  github_fail(c, rc, &resp, what, &err);
  github_resp_free(&resp);
  return raise_err(L, &err);
}

static int l_delete_release(lua_State *L)
{
  return delete_thing(L, "%s/repos/%s/releases/%lld", "deleting a release");
}

static int l_delete_asset(lua_State *L)
{
  return delete_thing(L, "%s/repos/%s/releases/assets/%lld",
                      "deleting an asset");
}

/* c:list_assets(id) -> every asset of the release (all pages). */
static int l_list_assets(lua_State *L)
{
  struct github_client *c = check_client(L);
  lua_Integer id = luaL_checkinteger(L, 2);
  struct vrun_err err = { 0, "" };
  char *url;
  cJSON *all;

  url = github_aprintf("%s/repos/%s/releases/%lld/assets?per_page=100",
                       c->api, c->repo, (long long)id);
  if(!url)
    return luaL_error(L, "out of memory");
  if(dry()) {
    say("github: would GET %s (every page)", url);
    free(url);
    lua_newtable(L);
    return 1;
  }
  all = github_get_all(c, url, "listing release assets", &err);
  free(url);
  if(!all)
    return raise_err(L, &err);
  push_json(L, all, 0);
  cJSON_Delete(all);
  return 1;
}

static void files_free(struct github_file *f, size_t n)
{
  size_t i;

  for(i = 0; f && i < n; i++) {
    free(f[i].path);
    free(f[i].name);
    free(f[i].content_type);
  }
  free(f);
}

static const char *guess_type(const char *name)
{
  size_t n = strlen(name);

  if(n > 4 && !strcmp(name + n - 4, ".zip"))
    return "application/zip";
  if(n > 7 && !strcmp(name + n - 7, ".tar.gz"))
    return "application/x-gzip";
  if(n > 4 && !strcmp(name + n - 4, ".txt"))
    return "text/plain";
  return "application/octet-stream";
}

/* Read the files list at idx into a C array; NULL with *msg on error
** (the caller raises). */
static struct github_file *read_files(lua_State *L, int idx, size_t *nout,
                                      char *msg, size_t msgsize)
{
  size_t n = lua_rawlen(L, idx), i;
  struct github_file *f = calloc(n ? n : 1, sizeof(*f));
  struct stat st;
  const char *path, *name, *ct, *slash;

  *nout = n;
  if(!f) {
    snprintf(msg, msgsize, "out of memory");
    return NULL;
  }
  for(i = 0; i < n; i++) {
    lua_rawgeti(L, idx, (lua_Integer)i + 1);
    if(lua_type(L, -1) == LUA_TSTRING) {
      path = lua_tostring(L, -1);
      name = NULL;
      ct = NULL;
    }
    else if(lua_type(L, -1) == LUA_TTABLE) {
      lua_getfield(L, -1, "path");
      lua_getfield(L, -2, "name");
      lua_getfield(L, -3, "content_type");
      path = lua_tostring(L, -3);
      name = lua_tostring(L, -2);
      ct = lua_tostring(L, -1);
      lua_pop(L, 3);  /* the strings stay alive in the table */
    }
    else
      path = name = ct = NULL;
    lua_pop(L, 1);
    if(!path) {
      snprintf(msg, msgsize, "upload_assets: file %zu has no path", i + 1);
      goto fail;
    }
    errno = 0;
    if(stat(path, &st) || !S_ISREG(st.st_mode)) {
      snprintf(msg, msgsize, "%s: %s", path,
               errno ? strerror(errno) : "not a regular file");
      goto fail;
    }
    if(!name) {
      slash = strrchr(path, '/');
      name = slash ? slash + 1 : path;
    }
    f[i].path = strdup(path);
    f[i].name = strdup(name);
    f[i].content_type = strdup(ct ? ct : guess_type(name));
    f[i].size = (uint64_t)st.st_size;
    if(!f[i].path || !f[i].name || !f[i].content_type) {
      snprintf(msg, msgsize, "out of memory");
      goto fail;
    }
  }
  return f;
fail:
  files_free(f, n);
  return NULL;
}

/* c:upload_assets(release, files) -> { uploaded =, skipped =, replaced =,
** bytes =, rounds = }. files: paths, or { path =, name =, content_type }
** tables. */
static int l_upload_assets(lua_State *L)
{
  struct github_client *c = check_client(L);
  struct github_upload_stats st;
  struct vrun_err err = { 0, "" };
  const char *msg = "out of memory";
  struct github_file *files;
  cJSON *rel;
  size_t n, i;
  char emsg[600];
  int rc;

  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
  files = read_files(L, 3, &n, emsg, sizeof(emsg));
  if(!files)
    return luaL_error(L, "%s", emsg);
  rel = to_json(L, 2, 0, &msg);
  if(!rel) {
    files_free(files, n);
    return luaL_error(L, "upload_assets: %s", msg);
  }
  memset(&st, 0, sizeof(st));
  if(dry()) {
    char *base = NULL;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(rel, "id");
    if(cJSON_GetObjectItemCaseSensitive(rel, "upload_url"))
      base = github_upload_base(rel, &err);
    if(!base)
      base = github_upload_guess(c, cJSON_IsNumber(id) ?
                                 (long long)id->valuedouble : 0);
    for(i = 0; i < n; i++) {
      char *enc = github_urlencode(files[i].name);
      github_host->log(github_host->ctx, VRUN_LOG_INFO,
                       "github: would POST %s?name=%s  %s (%llu bytes, "
                       "%s)", base ? base : "?", enc ? enc : "?",
                       files[i].path, (unsigned long long)files[i].size,
                       files[i].content_type);
      free(enc);
      st.bytes += files[i].size;
    }
    st.uploaded = (int)n;
    free(base);
    rc = VRUN_OK;
  }
  else
    rc = github_upload_sync(c, rel, files, n, &st, &err);
  cJSON_Delete(rel);
  files_free(files, n);
  if(rc)
    return raise_err(L, &err);
  lua_newtable(L);
  lua_pushinteger(L, st.uploaded);
  lua_setfield(L, -2, "uploaded");
  lua_pushinteger(L, st.skipped);
  lua_setfield(L, -2, "skipped");
  lua_pushinteger(L, st.replaced);
  lua_setfield(L, -2, "replaced");
  lua_pushinteger(L, st.rounds);
  lua_setfield(L, -2, "rounds");
  lua_pushinteger(L, (lua_Integer)st.bytes);
  lua_setfield(L, -2, "bytes");
  return 1;
}
/* }====================================================================== */

static const luaL_Reg client_methods[] = {
  { "info", l_client_info },
  { "check_scopes", l_check_scopes },
  { "releases_by_tag", l_releases_by_tag },
  { "get_release", l_get_release },
  { "create_release", l_create_release },
  { "update_release", l_update_release },
  { "delete_release", l_delete_release },
  { "list_assets", l_list_assets },
  { "delete_asset", l_delete_asset },
  { "upload_assets", l_upload_assets },
  { NULL, NULL }
};

static const luaL_Reg funcs[] = {
  { "client", l_client },
  { "json_encode", l_json_encode },
  { "json_decode", l_json_decode },
  { "sha256_file", l_sha256_file },
  { "write_file", l_write_file },
  { "list_dir", l_list_dir },
  { "file_size", l_file_size },
  { "info", l_info },
  { "warn", l_warn },
  { "verbose", l_verbose },
  { "dry_run", l_dry_run },
  { NULL, NULL }
};

static int github_open(lua_State *L, const struct vrun_host *host,
                       struct vrun_err *err)
{
  if(!VRUN_HOST_HAS(host, write_file))
    return github_err(err, VRUN_ENOTSUP, "this vrun lacks the host "
                        "services the github module needs");
  github_host = host;
  if(luaL_newmetatable(L, CLIENT_MT)) {
    luaL_newlib(L, client_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_client_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  luaL_newlib(L, funcs);
  lua_pushliteral(L, GITHUB_SCOPES);
  lua_setfield(L, -2, "SCOPES");
  return VRUN_OK;
}

const struct vrun_module vrun_module = {
  VRUN_ABI_VERSION, "github", "0.1.0",
  "GitHub releases: drafts, resumable asset uploads, verify, publish",
  github_open
};
