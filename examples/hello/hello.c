/*
** hello.c: the tiny program vrun's example builds, tests and releases.
** SPDX-License-Identifier: MIT
*/
#include <stdio.h>
#include <string.h>

#ifndef HELLO_VERSION
#define HELLO_VERSION "dev"
#endif

int main(int argc, char **argv)
{
  if(argc > 1 && strcmp(argv[1], "--version") == 0) {
    printf("hello %s\n", HELLO_VERSION);
    return 0;
  }
  printf("Hello, %s!\n", argc > 1 ? argv[1] : "world");
  return 0;
}
