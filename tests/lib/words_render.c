/* Renders each line of stdin as core/err.c renders messages: argv[1] "cli" for the command line's
 * words, "lib" for the library's. tests/lib/lib_words.py feeds it every message the library has. */
#include <stdio.h>
#include <string.h>

#include "core/err.h"

int main(int argc, char **argv)
{
	if (argc != 2 || (strcmp(argv[1], "cli") != 0 && strcmp(argv[1], "lib") != 0)) {
		fprintf(stderr, "usage: words_render cli|lib <lines\n");
		return 2;
	}
	char in[4096], out[4096];
	while (fgets(in, sizeof in, stdin)) {
		in[strcspn(in, "\n")] = '\0';
		err_words(in, strcmp(argv[1], "cli") == 0, out, sizeof out);
		puts(out);
	}
	return 0;
}
