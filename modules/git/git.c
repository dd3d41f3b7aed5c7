/*
** git.c: the `git` module: read a repository's state, check out tags,
** push refs, with libgit2. Signing is left to the user's git (`git tag
** -s` through host->run), since that is where signing keys live.
** SPDX-License-Identifier: MIT
*/
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>
#include <lauxlib.h>
#include <lua.h>

#include "vrun_module.h"

#define GIT_MSG 512

static const struct vrun_host *host;

/* Copy libgit2's last error after a prefix into msg. */
static void git_fail(char *msg, const char *what)
{
  const git_error *e = git_error_last();

  snprintf(msg, GIT_MSG, "git: %s: %s", what,
           e && e->message ? e->message : "unknown error");
}

/* Open the repository holding the current folder; raise on failure.
** The caller frees it (before raising anything else). */
static git_repository *open_repo(lua_State *L)
{
  git_repository *repo = NULL;
  char msg[GIT_MSG];

  if(git_repository_open_ext(&repo, ".", 0, NULL)) {
    git_fail(msg, "cannot open the repository here");
    return (luaL_error(L, "%s", msg), NULL);
  }
  return repo;
}

static void push_oid(lua_State *L, const git_oid *oid)
{
  char hex[GIT_OID_HEXSZ + 1];

  git_oid_tostr(hex, sizeof(hex), oid);
  lua_pushstring(L, hex);
}

/* Resolve a revision to the commit it names. 0, or -1 (not found or not
** a commit). *out is freed by the caller. */
static int resolve_commit(git_repository *repo, const char *rev,
                          git_commit **out)
{
  git_object *obj = NULL, *peeled = NULL;
  int rc;

  *out = NULL;
  if(git_revparse_single(&obj, repo, rev))
    return -1;
  rc = git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT);
  git_object_free(obj);
  if(rc)
    return -1;
  *out = (git_commit *)peeled;
  return 0;
}

/* git.head() -> { oid=, short=, time=, branch=, detached=, summary= } */
static int l_head(lua_State *L)
{
  git_repository *repo = open_repo(L);
  git_reference *head = NULL;
  git_commit *c = NULL;
  char msg[GIT_MSG] = "", hex[8];

  if(git_repository_head(&head, repo) ||
     git_commit_lookup(&c, repo, git_reference_target(head))) {
    git_fail(msg, "HEAD");
    goto out;
  }
  lua_createtable(L, 0, 6);
  push_oid(L, git_commit_id(c));
  lua_setfield(L, -2, "oid");
  git_oid_tostr(hex, sizeof(hex), git_commit_id(c));
  lua_pushstring(L, hex);
  lua_setfield(L, -2, "short");
  lua_pushinteger(L, (lua_Integer)git_commit_time(c));
  lua_setfield(L, -2, "time");
  lua_pushboolean(L, git_repository_head_detached(repo) == 1);
  lua_setfield(L, -2, "detached");
  if(git_reference_is_branch(head)) {
    lua_pushstring(L, git_reference_shorthand(head));
    lua_setfield(L, -2, "branch");
  }
  lua_pushstring(L, git_commit_summary(c) ? git_commit_summary(c) : "");
  lua_setfield(L, -2, "summary");
out:
  git_commit_free(c);
  git_reference_free(head);
  git_repository_free(repo);
  if(*msg)
    return luaL_error(L, "%s", msg);
  return 1;
}

/* git.branch() -> the checked-out branch's name, or nil when detached */
static int l_branch(lua_State *L)
{
  git_repository *repo = open_repo(L);
  git_reference *head = NULL;
  char msg[GIT_MSG] = "";

  if(git_repository_head(&head, repo))
    git_fail(msg, "HEAD");
  else if(git_reference_is_branch(head))
    lua_pushstring(L, git_reference_shorthand(head));
  else
    lua_pushnil(L);
  git_reference_free(head);
  git_repository_free(repo);
  if(*msg)
    return luaL_error(L, "%s", msg);
  return 1;
}

/* git.resolve(rev) -> commit id (hex), or nil when rev names nothing */
static int l_resolve(lua_State *L)
{
  const char *rev = luaL_checkstring(L, 1);
  git_repository *repo = open_repo(L);
  git_commit *c = NULL;

  if(resolve_commit(repo, rev, &c))
    lua_pushnil(L);
  else
    push_oid(L, git_commit_id(c));
  git_commit_free(c);
  git_repository_free(repo);
  return 1;
}

static int opt_bool(lua_State *L, int t, const char *k)
{
  int v;

  if(lua_type(L, t) != LUA_TTABLE)
    return 0;
  lua_getfield(L, t, k);
  v = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

/* With --all, git names the ref's kind ("tags/v1-0-gabc", "heads/x");
** libgit2 leaves it out: put it back. */
static void push_all_name(lua_State *L, git_repository *repo,
                          const char *d)
{
  static const char *const kinds[] = { "tags", "heads", "remotes", NULL };
  size_t len = strlen(d), base = len, i;
  char ref[1024];
  git_reference *r = NULL;
  int k;

  /* the name is d without a trailing -<n>-g<hex> */
  i = len;
  while(i > 0 && strchr("0123456789abcdef", d[i - 1]))
    i--;
  if(i >= 2 && i < len && d[i - 1] == 'g' && d[i - 2] == '-') {
    size_t j = i - 2;
    while(j > 0 && d[j - 1] >= '0' && d[j - 1] <= '9')
      j--;
    if(j >= 1 && j < i - 2 && d[j - 1] == '-')
      base = j - 1;
  }
  for(k = 0; kinds[k]; k++) {
    snprintf(ref, sizeof(ref), "refs/%s/%.*s", kinds[k], (int)base, d);
    if(!git_reference_lookup(&r, repo, ref)) {
      git_reference_free(r);
      lua_pushfstring(L, "%s/%s", kinds[k], d);
      return;
    }
  }
  lua_pushstring(L, d);
}

/* git.describe{ all=, long=, tags= } -> string, like `git describe` */
static int l_describe(lua_State *L)
{
  git_repository *repo = open_repo(L);
  git_describe_options dopt;
  git_describe_format_options fopt;
  git_describe_result *res = NULL;
  git_object *head = NULL;
  git_buf buf = { 0 };
  char msg[GIT_MSG] = "";

  /* the _init functions: the INIT macros trip -Wextra */
  git_describe_options_init(&dopt, GIT_DESCRIBE_OPTIONS_VERSION);
  git_describe_format_options_init(&fopt,
                                   GIT_DESCRIBE_FORMAT_OPTIONS_VERSION);
  if(opt_bool(L, 1, "all"))
    dopt.describe_strategy = GIT_DESCRIBE_ALL;
  else if(opt_bool(L, 1, "tags"))
    dopt.describe_strategy = GIT_DESCRIBE_TAGS;
  fopt.always_use_long_format = opt_bool(L, 1, "long");
  if(git_revparse_single(&head, repo, "HEAD") ||
     git_describe_commit(&res, head, &dopt) ||
     git_describe_format(&buf, res, &fopt))
    git_fail(msg, "describe");
  else if(dopt.describe_strategy == GIT_DESCRIBE_ALL)
    push_all_name(L, repo, buf.ptr);
  else
    lua_pushlstring(L, buf.ptr, buf.size);
  git_buf_dispose(&buf);
  git_describe_result_free(res);
  git_object_free(head);
  git_repository_free(repo);
  if(*msg)
    return luaL_error(L, "%s", msg);
  return 1;
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* git.tags_at_head() -> sorted list of the tags pointing at HEAD */
static int l_tags_at_head(lua_State *L)
{
  git_repository *repo = open_repo(L);
  git_strarray names = { 0 };
  git_oid head;
  char msg[GIT_MSG] = "";
  char **hit = NULL;
  size_t i, n = 0;

  if(git_reference_name_to_id(&head, repo, "HEAD") ||
     git_tag_list(&names, repo)) {
    git_fail(msg, "tags");
    goto out;
  }
  hit = calloc(names.count + 1, sizeof(*hit));
  if(!hit) {
    snprintf(msg, sizeof(msg), "git: out of memory");
    goto out;
  }
  for(i = 0; i < names.count; i++) {
    char ref[1024];
    git_commit *c = NULL;
    snprintf(ref, sizeof(ref), "refs/tags/%s", names.strings[i]);
    if(!resolve_commit(repo, ref, &c) &&
       git_oid_equal(git_commit_id(c), &head))
      hit[n++] = names.strings[i];
    git_commit_free(c);
  }
  qsort(hit, n, sizeof(*hit), cmp_str);
  lua_createtable(L, (int)n, 0);
  for(i = 0; i < n; i++) {
    lua_pushstring(L, hit[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
out:
  free(hit);
  git_strarray_dispose(&names);
  git_repository_free(repo);
  if(*msg)
    return luaL_error(L, "%s", msg);
  return 1;
}

/* Does a raw tag object carry a signature (gpg, ssh or x509)? */
static int tag_signed(git_repository *repo, const git_oid *id)
{
  static const char *const marks[] = {
    "-----BEGIN PGP SIGNATURE-----", "-----BEGIN SSH SIGNATURE-----",
    "-----BEGIN SIGNED MESSAGE-----", NULL
  };
  git_odb *odb = NULL;
  git_odb_object *o = NULL;
  int yes = 0, k;

  if(!git_repository_odb(&odb, repo) && !git_odb_read(&o, odb, id)) {
    const char *d = git_odb_object_data(o);
    size_t len = git_odb_object_size(o);
    for(k = 0; marks[k] && !yes; k++) {
      size_t ml = strlen(marks[k]), i;
      for(i = 0; i + ml <= len; i++)
        if(!memcmp(d + i, marks[k], ml) && (i == 0 || d[i - 1] == '\n')) {
          yes = 1;
          break;
        }
    }
  }
  git_odb_object_free(o);
  git_odb_free(odb);
  return yes;
}

/* git.tag(name) -> nil, or { name=, oid=, target=, annotated=, signed=,
** tagger=, message= }; target is the commit the tag leads to */
static int l_tag(lua_State *L)
{
  const char *name = luaL_checkstring(L, 1);
  git_repository *repo = open_repo(L);
  git_reference *ref = NULL;
  git_commit *c = NULL;
  git_tag *tag = NULL;
  char full[1024];
  const git_oid *id;

  snprintf(full, sizeof(full), "refs/tags/%s", name);
  if(git_reference_lookup(&ref, repo, full)) {
    lua_pushnil(L);
    goto out;
  }
  id = git_reference_target(ref);
  lua_createtable(L, 0, 7);
  lua_pushstring(L, name);
  lua_setfield(L, -2, "name");
  push_oid(L, id);
  lua_setfield(L, -2, "oid");
  if(!resolve_commit(repo, full, &c)) {
    push_oid(L, git_commit_id(c));
    lua_setfield(L, -2, "target");
  }
  if(id && !git_tag_lookup(&tag, repo, id)) {
    const git_signature *who = git_tag_tagger(tag);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "annotated");
    lua_pushboolean(L, tag_signed(repo, id));
    lua_setfield(L, -2, "signed");
    if(who) {
      lua_pushfstring(L, "%s <%s>", who->name, who->email);
      lua_setfield(L, -2, "tagger");
    }
    lua_pushstring(L, git_tag_message(tag) ? git_tag_message(tag) : "");
    lua_setfield(L, -2, "message");
  }
  else {
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "annotated");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "signed");
  }
out:
  git_tag_free(tag);
  git_commit_free(c);
  git_reference_free(ref);
  git_repository_free(repo);
  return 1;
}

/* Tracked files with changes (staged or not; untracked ones ignored,
** as `git diff-index HEAD` does). Pushes a list; returns its length, or
** -1 with msg filled. */
static int push_changes(lua_State *L, git_repository *repo, char *msg)
{
  git_status_options so;
  git_status_list *st = NULL;
  size_t i, n;

  git_status_options_init(&so, GIT_STATUS_OPTIONS_VERSION);
  so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
  so.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
  if(git_status_list_new(&st, repo, &so)) {
    git_fail(msg, "status");
    return -1;
  }
  n = git_status_list_entrycount(st);
  lua_createtable(L, (int)n, 0);
  for(i = 0; i < n; i++) {
    const git_status_entry *e = git_status_byindex(st, i);
    const git_diff_delta *d = e->index_to_workdir ? e->index_to_workdir :
                              e->head_to_index;
    const char *p = d ? (d->new_file.path ? d->new_file.path :
                         d->old_file.path) : "?";
    lua_pushstring(L, p);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  git_status_list_free(st);
  return (int)n;
}

/* git.dirty() -> bool, { changed paths } */
static int l_dirty(lua_State *L)
{
  git_repository *repo = open_repo(L);
  char msg[GIT_MSG] = "";
  int n;

  n = push_changes(L, repo, msg);
  git_repository_free(repo);
  if(n < 0)
    return luaL_error(L, "%s", msg);
  lua_pushboolean(L, n > 0);
  lua_insert(L, -2);
  return 2;
}

/* Join up to 5 paths of the list on top of the stack, for a message. */
static void list_paths(lua_State *L, char *out, size_t size)
{
  lua_Integer i, n = luaL_len(L, -1);
  size_t len = 0;

  out[0] = 0;
  for(i = 1; i <= n && i <= 5 && len < size; i++) {
    lua_rawgeti(L, -1, i);
    len += (size_t)snprintf(out + len, size - len, "%s%s", i > 1 ? ", " : "",
                            lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  if(n > 5 && len < size)
    snprintf(out + len, size - len, ", and %d more", (int)(n - 5));
}

/* git.checkout(rev) -> { from=, oid= }. A local branch name attaches
** HEAD to it; anything else (a tag) detaches HEAD at its commit. Refuses
** a work tree with changes. `from` is what to pass back to return. */
static int l_checkout(lua_State *L)
{
  const char *rev = luaL_checkstring(L, 1);
  git_repository *repo = open_repo(L);
  git_checkout_options co;
  git_reference *head = NULL, *br = NULL;
  git_commit *c = NULL;
  char msg[GIT_MSG] = "", paths[300], from[1024], hex[8];
  int n;

  if(git_repository_head(&head, repo)) {
    git_fail(msg, "HEAD");
    goto out;
  }
  if(git_reference_is_branch(head))
    snprintf(from, sizeof(from), "%s", git_reference_shorthand(head));
  else
    git_oid_tostr(from, sizeof(from), git_reference_target(head));
  if(resolve_commit(repo, rev, &c)) {
    snprintf(msg, sizeof(msg), "git: cannot check out '%s': no such "
             "commit, branch or tag", rev);
    goto out;
  }
  git_oid_tostr(hex, sizeof(hex), git_commit_id(c));
  n = push_changes(L, repo, msg);
  if(n < 0)
    goto out;
  if(n > 0) {
    list_paths(L, paths, sizeof(paths));
    snprintf(msg, sizeof(msg), "git: cannot check out '%s': the work tree "
             "has local changes (%s); commit or stash them first", rev,
             paths);
    lua_pop(L, 1);
    goto out;
  }
  lua_pop(L, 1);
  if(host->dry_run(host->ctx)) {
    host->log(host->ctx, VRUN_LOG_INFO, "git: would check out %s (%s)",
              rev, hex);
  }
  else {
    git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
    co.checkout_strategy = GIT_CHECKOUT_SAFE;
    if(git_checkout_tree(repo, (git_object *)c, &co)) {
      git_fail(msg, rev);
      goto out;
    }
    if(!git_branch_lookup(&br, repo, rev, GIT_BRANCH_LOCAL)) {
      if(git_repository_set_head(repo, git_reference_name(br))) {
        git_fail(msg, rev);
        goto out;
      }
    }
    else if(git_repository_set_head_detached(repo, git_commit_id(c))) {
      git_fail(msg, rev);
      goto out;
    }
    host->log(host->ctx, VRUN_LOG_INFO, "git: checked out %s (%s)", rev,
              hex);
  }
  lua_createtable(L, 0, 2);
  lua_pushstring(L, from);
  lua_setfield(L, -2, "from");
  push_oid(L, git_commit_id(c));
  lua_setfield(L, -2, "oid");
out:
  git_reference_free(br);
  git_commit_free(c);
  git_reference_free(head);
  git_repository_free(repo);
  if(*msg)
    return luaL_error(L, "%s", msg);
  return 1;
}

/* git.remotes() -> { {name=, url=, push_url=}, ... } sorted by name */
static int l_remotes(lua_State *L)
{
  git_repository *repo = open_repo(L);
  git_strarray names = { 0 };
  char msg[GIT_MSG] = "";
  size_t i;

  if(git_remote_list(&names, repo)) {
    git_fail(msg, "remotes");
    goto out;
  }
  qsort(names.strings, names.count, sizeof(char *), cmp_str);
  lua_createtable(L, (int)names.count, 0);
  for(i = 0; i < names.count; i++) {
    git_remote *r = NULL;
    lua_createtable(L, 0, 3);
    lua_pushstring(L, names.strings[i]);
    lua_setfield(L, -2, "name");
    if(!git_remote_lookup(&r, repo, names.strings[i])) {
      if(git_remote_url(r)) {
        lua_pushstring(L, git_remote_url(r));
        lua_setfield(L, -2, "url");
      }
      lua_pushstring(L, git_remote_pushurl(r) ? git_remote_pushurl(r) :
                     git_remote_url(r) ? git_remote_url(r) : "");
      lua_setfield(L, -2, "push_url");
      git_remote_free(r);
    }
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
out:
  git_strarray_dispose(&names);
  git_repository_free(repo);
  if(*msg)
    return luaL_error(L, "%s", msg);
  return 1;
}

/* git.remote_url(name) -> the URL pushes go to, or nil */
static int l_remote_url(lua_State *L)
{
  const char *name = luaL_checkstring(L, 1);
  git_repository *repo = open_repo(L);
  git_remote *r = NULL;

  if(git_remote_lookup(&r, repo, name))
    lua_pushnil(L);
  else if(git_remote_pushurl(r))
    lua_pushstring(L, git_remote_pushurl(r));
  else if(git_remote_url(r))
    lua_pushstring(L, git_remote_url(r));
  else
    lua_pushnil(L);
  git_remote_free(r);
  git_repository_free(repo);
  return 1;
}

/* git.config(key) -> its value in the repository's view of the git
** configuration (repo, global, system), or nil */
static int l_config(lua_State *L)
{
  const char *key = luaL_checkstring(L, 1);
  git_repository *repo = open_repo(L);
  git_config *cfg = NULL;
  git_buf buf = { 0 };

  if(!git_repository_config_snapshot(&cfg, repo) &&
     !git_config_get_string_buf(&buf, cfg, key))
    lua_pushlstring(L, buf.ptr, buf.size);
  else
    lua_pushnil(L);
  git_buf_dispose(&buf);
  git_config_free(cfg);
  git_repository_free(repo);
  return 1;
}

/* What one push learns from libgit2's callbacks. */
struct push_state {
  int tried_agent;
  int tried_token;
  int sent_token;
  char rejected[GIT_MSG];
};

static int cred_cb(git_credential **out, const char *url,
                   const char *user, unsigned int allowed, void *payload)
{
  struct push_state *ps = payload;
  const char *token;

  (void)url;
  if((allowed & GIT_CREDENTIAL_SSH_KEY) && !ps->tried_agent) {
    ps->tried_agent = 1;
    return git_credential_ssh_key_from_agent(out, user ? user : "git");
  }
  if((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && !ps->tried_token) {
    ps->tried_token = 1;
    token = host->var_get ? host->var_get(host->ctx, "GITHUB_TOKEN") : NULL;
    if(token && *token) {
      host->secret(host->ctx, token);
      ps->sent_token = 1;
      return git_credential_userpass_plaintext_new(out, "x-access-token",
                                                   token);
    }
  }
  /* each method once: a wrong credential must not loop forever */
  if(ps->sent_token)
    git_error_set_str(GIT_ERROR_NET, "authentication failed: the server "
                      "refused GITHUB_TOKEN");
  else
    git_error_set_str(GIT_ERROR_NET, "no accepted credentials (tried "
                      "ssh-agent and GITHUB_TOKEN)");
  return GIT_EAUTH;
}

static int update_cb(const char *ref, const char *status, void *payload)
{
  struct push_state *ps = payload;

  if(status && !ps->rejected[0])
    snprintf(ps->rejected, sizeof(ps->rejected), "%s rejected: %s", ref,
             status);
  return 0;
}

/* git.push{ remote=, refs={ "v1.2.3", "refs/heads/x", ... } } -> true.
** A bare name is a tag if such a tag exists, else a local branch. */
static int l_push(lua_State *L)
{
  git_repository *repo = NULL;
  git_remote *remote = NULL;
  git_push_options po;
  struct push_state ps;
  git_strarray specs = { 0 };
  const char *rname;
  char msg[GIT_MSG] = "";
  lua_Integer i, n;
  int dry;

  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, 1, "remote");
  rname = lua_tostring(L, -1);
  if(!rname)
    return luaL_error(L, "git.push: 'remote' is required");
  lua_getfield(L, 1, "refs");
  if(!lua_istable(L, -1))
    return luaL_error(L, "git.push: 'refs' must be a list");
  n = luaL_len(L, -1);
  /* build refspecs as Lua strings first: nothing to free on a raise */
  repo = open_repo(L);
  lua_createtable(L, (int)n, 0);
  for(i = 1; i <= n; i++) {
    const char *r;
    git_reference *ref = NULL;
    lua_rawgeti(L, -2, i);
    r = lua_tostring(L, -1);
    if(!r) {
      snprintf(msg, sizeof(msg), "git.push: refs[%d] is not a string",
               (int)i);
      goto out;
    }
    if(!strncmp(r, "refs/", 5))
      lua_pushfstring(L, "%s:%s", r, r);
    else {
      const char *full = lua_pushfstring(L, "refs/tags/%s", r);
      if(git_reference_lookup(&ref, repo, full)) {
        lua_pop(L, 1);
        full = lua_pushfstring(L, "refs/heads/%s", r);
        if(git_reference_lookup(&ref, repo, full)) {
          snprintf(msg, sizeof(msg), "git: cannot push '%s': no such tag "
                   "or branch", r);
          goto out;
        }
      }
      git_reference_free(ref);
      lua_pushfstring(L, "%s:%s", full, full);
      lua_remove(L, -2);
    }
    lua_rawseti(L, -3, i);
    lua_pop(L, 1);
  }
  if(git_remote_lookup(&remote, repo, rname)) {
    snprintf(msg, sizeof(msg), "git: no remote named '%s'", rname);
    goto out;
  }
  dry = host->dry_run(host->ctx);
  for(i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    host->log(host->ctx, VRUN_LOG_INFO, "git: %spush %s to %s (%s)",
              dry ? "would " : "", lua_tostring(L, -1), rname,
              git_remote_pushurl(remote) ? git_remote_pushurl(remote) :
              git_remote_url(remote) ? git_remote_url(remote) : "?");
    lua_pop(L, 1);
  }
  if(dry || !n)
    goto out;
  specs.count = (size_t)n;
  specs.strings = calloc((size_t)n, sizeof(char *));
  if(!specs.strings) {
    snprintf(msg, sizeof(msg), "git: out of memory");
    goto out;
  }
  for(i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    specs.strings[i - 1] = (char *)lua_tostring(L, -1);
    lua_pop(L, 1);    /* still referenced by the table */
  }
  memset(&ps, 0, sizeof(ps));
  git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
  po.callbacks.credentials = cred_cb;
  po.callbacks.push_update_reference = update_cb;
  po.callbacks.payload = &ps;
  if(git_remote_push(remote, &specs, &po))
    git_fail(msg, rname);
  else if(ps.rejected[0])
    snprintf(msg, sizeof(msg), "git: push to %s: %.400s", rname,
             ps.rejected);
out:
  free(specs.strings);
  git_remote_free(remote);
  git_repository_free(repo);
  if(*msg)
    return luaL_error(L, "%s", msg);
  lua_pushboolean(L, 1);
  return 1;
}

/* Run git with argv through the host (its echo, -n and output). */
static int run_git(lua_State *L, const char *const *argv, int flags,
                   int *status)
{
  struct vrun_err err;
  int rc;

  memset(&err, 0, sizeof(err));
  if(!host->run)
    return luaL_error(L, "git: this vrun cannot run commands");
  rc = host->run(host->ctx, argv, NULL, flags, NULL, NULL, status, &err);
  if(rc)
    return luaL_error(L, "git: %s", err.msg);
  return 0;
}

/* git.create_tag{ name=, target=, message=, sign=true } -> true.
** Runs `git tag -s` (or -a) so the user's signing setup applies. */
static int l_create_tag(lua_State *L)
{
  const char *argv[9];
  const char *name, *target, *message;
  int k = 0, status = 0;

  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, 1, "name");
  lua_getfield(L, 1, "target");
  lua_getfield(L, 1, "message");
  lua_getfield(L, 1, "sign");
  name = lua_tostring(L, -4);
  target = lua_tostring(L, -3);
  message = lua_tostring(L, -2);
  if(!name || !*name)
    return luaL_error(L, "git.create_tag: 'name' is required");
  argv[k++] = "git";
  argv[k++] = "tag";
  argv[k++] = (lua_isnil(L, -1) || lua_toboolean(L, -1)) ? "-s" : "-a";
  argv[k++] = "-m";
  argv[k++] = message ? message : name;
  argv[k++] = "--";
  argv[k++] = name;
  if(target)
    argv[k++] = target;
  argv[k] = NULL;
  run_git(L, argv, 0, &status);
  lua_pushboolean(L, 1);
  return 1;
}

/* git.verify_tag(name) -> true when `git verify-tag` accepts its
** signature (a read-only check: runs under -n too) */
static int l_verify_tag(lua_State *L)
{
  /* gpg's report goes to stderr: only the verdict matters here */
  const char *argv[] = { "sh", "-c",
                         "git verify-tag -- \"$1\" >/dev/null 2>&1",
                         "sh", NULL, NULL };
  int status = -1;

  argv[4] = luaL_checkstring(L, 1);
  run_git(L, argv, VRUN_RUN_READONLY | VRUN_RUN_NOFAIL | VRUN_RUN_QUIET,
          &status);
  lua_pushboolean(L, status == 0);
  return 1;
}

static const luaL_Reg git_funcs[] = {
  {"head", l_head},
  {"branch", l_branch},
  {"resolve", l_resolve},
  {"describe", l_describe},
  {"tags_at_head", l_tags_at_head},
  {"tag", l_tag},
  {"dirty", l_dirty},
  {"checkout", l_checkout},
  {"remotes", l_remotes},
  {"remote_url", l_remote_url},
  {"config", l_config},
  {"push", l_push},
  {"create_tag", l_create_tag},
  {"verify_tag", l_verify_tag},
  {NULL, NULL}
};

static int git_inited;

/* Runs at exit: give libgit2's global state back. */
__attribute__((destructor)) static void git_unload(void)
{
  if(git_inited)
    git_libgit2_shutdown();
}

static int git_open(lua_State *L, const struct vrun_host *h,
                    struct vrun_err *err)
{
  Dl_info self;

  if(!h || !h->log || !h->dry_run || !h->secret)
    return VRUN_SET_ERR(err, VRUN_ENOTSUP, "host lacks log/dry_run/secret");
  if(git_libgit2_init() < 0)
    return VRUN_SET_ERR(err, VRUN_ENOTSUP, "libgit2 failed to start");
  git_inited = 1;
  /* libgit2 keeps threads' state and global caches: never unload it
  ** (and the libraries it pulls in) before the process ends */
  if(dladdr((void *)&git_unload, &self) && self.dli_fname)
    dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
  host = h;
  luaL_newlib(L, git_funcs);
  return VRUN_OK;
}

const struct vrun_module vrun_module = {
  .abi = VRUN_ABI_VERSION,
  .name = "git",
  .version = "1.0.0",
  .summary = "Git repositories: state, tags, checkout, push (libgit2)",
  .open = git_open
};
