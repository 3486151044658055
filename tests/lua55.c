/*
** A small stand-alone Lua 5.5 interpreter for the tests. Debian 12 packages no lua5.5, and the
** `lua-src` crate ships Lua's library sources without lua.c, so this file is the `main`;
** tests/build-lua55 compiles it with those sources.
**
** It does what the test harness, tests/run-all and luarocks use, the way lua.c does it:
**   lua5.5 [-v] [-e code]... [--] [script [args...]]
** A script "-", or no script and no -e, reads the chunk from stdin. `arg` and the script's `...`
** are lua.c's; LUA_PATH/LUA_CPATH (and their _5_5 forms) reach `package` through
** luaL_openlibs. An error prints "lua5.5: message" and a traceback on stderr and exits with 1;
** os.exit keeps its status. The state is closed at the end, so finalizers run (valgrind's leak
** check relies on that). As in lua.c, the collector runs in generational mode.
** Not supported (nothing here uses them): -i, -l, -E, -W, LUA_INIT and the interactive prompt.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"

#ifndef PROGNAME /* tests/windows/run builds this main for its Lua 5.4 too */
#define PROGNAME "lua5.5"
#endif
static const char *progname = PROGNAME;

/* Message handler: adds a traceback to a string error, as lua.c does. */
static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      return 1;
    msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* Calls the function below `nargs` arguments on the top; prints the error if it fails. */
static int docall(lua_State *L, int nargs) {
  int base = lua_gettop(L) - nargs;
  int status;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  status = lua_pcall(L, nargs, 0, base);
  lua_remove(L, base);
  if (status != LUA_OK) {
    fprintf(stderr, "%s: %s\n", progname, lua_tostring(L, -1));
    fflush(stderr);
    lua_pop(L, 1);
  }
  return status;
}

/* Prints a load error (a syntax error, an unreadable file) like a run-time one. */
static int report_load(lua_State *L, int status) {
  if (status != LUA_OK) {
    fprintf(stderr, "%s: %s\n", progname, lua_tostring(L, -1));
    fflush(stderr);
    lua_pop(L, 1);
  }
  return status;
}

/* The global `arg`: the script at 0, its arguments from 1, what came before it negative. */
static void createargtable(lua_State *L, char **argv, int argc, int script) {
  int i;
  lua_createtable(L, argc - script - 1, script + 1);
  for (i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

/* Runs the script at argv[script] ("-" is stdin) with argv[script+1..] as its `...`. */
static int runscript(lua_State *L, char **argv, int argc, int script) {
  const char *fname = argv[script];
  int status, i;
  if (strcmp(fname, "-") == 0)
    fname = NULL;
  status = report_load(L, luaL_loadfile(L, fname));
  if (status != LUA_OK)
    return status;
  luaL_checkstack(L, argc - script, "too many arguments to script");
  for (i = script + 1; i < argc; i++)
    lua_pushstring(L, argv[i]);
  return docall(L, argc - script - 1);
}

static void usage(const char *badoption) {
  fprintf(stderr, "%s: unrecognized option '%s'\nusage: %s [-v] [-e code]... [--] [script [args]]\n",
          progname, badoption, progname);
}

/* The interpreter proper, run in protected mode: pushes true when everything succeeded. */
static int pmain(lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = (char **)lua_touserdata(L, 2);
  int script = argc; /* index of the script in argv; argc when there is none */
  int has_e = 0, i;
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) {
      if (i + 1 < argc) script = i + 1;
      break;
    }
    if (argv[i][0] != '-' || argv[i][1] == '\0') { /* the script, or "-" for stdin */
      script = i;
      break;
    }
    if (strcmp(argv[i], "-e") == 0) {
      if (++i == argc) {
        fprintf(stderr, "%s: '-e' needs argument\n", progname);
        return 0;
      }
      has_e = 1;
    } else if (strcmp(argv[i], "-v") == 0) {
      printf("%s\n", LUA_COPYRIGHT);
      fflush(stdout);
    } else {
      usage(argv[i]);
      return 0;
    }
  }
  luaL_checkversion(L);
  luaL_openlibs(L);
  createargtable(L, argv, argc, script == argc ? 0 : script);
  lua_gc(L, LUA_GCRESTART);
  lua_gc(L, LUA_GCGEN);
  for (i = 1; i < script && i < argc; i++) {
    if (strcmp(argv[i], "-e") == 0) {
      const char *code = argv[++i];
      if (report_load(L, luaL_loadbuffer(L, code, strlen(code), "=(command line)")) != LUA_OK ||
          docall(L, 0) != LUA_OK)
        return 0;
    }
  }
  if (script < argc) {
    if (runscript(L, argv, argc, script) != LUA_OK)
      return 0;
  } else if (!has_e) {
    char *stdin_only[] = {"-"};
    if (runscript(L, stdin_only, 1, 0) != LUA_OK)
      return 0;
  }
  lua_pushboolean(L, 1);
  return 1;
}

int main(int argc, char **argv) {
  int status, ok;
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    fprintf(stderr, "%s: cannot create state: not enough memory\n", progname);
    return EXIT_FAILURE;
  }
  lua_gc(L, LUA_GCSTOP); /* no collection while the libraries open, as in lua.c */
  lua_pushcfunction(L, pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  status = lua_pcall(L, 2, 1, 0);
  ok = lua_toboolean(L, -1);
  if (status != LUA_OK) /* an error outside any script, e.g. out of memory */
    fprintf(stderr, "%s: %s\n", progname, lua_tostring(L, -1));
  lua_close(L);
  return (status == LUA_OK && ok) ? EXIT_SUCCESS : EXIT_FAILURE;
}
