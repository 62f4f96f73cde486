/* hold FILE: opens FILE (or a device such as \\.\COM7) as another Windows program would that
 * shares it with nobody (an editor, a virus scan, a terminal on a COM port), says "held" on
 * stdout, and keeps it open until its stdin closes.
 * tests/windows/cli.sh runs stm32dfu.exe against the held file meanwhile (a sharing violation). */
#include <stdio.h>
#include <string.h>
#include <windows.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: hold FILE\n");
		return 2;
	}
	/* a device (\\.\COM7) is opened as it is; a file is created if missing */
	DWORD how = strncmp(argv[1], "\\\\.\\", 4) == 0 ? OPEN_EXISTING : OPEN_ALWAYS;
	HANDLE h = CreateFileA(argv[1], GENERIC_READ | GENERIC_WRITE, 0 /* no sharing */, NULL, how,
	                       FILE_ATTRIBUTE_NORMAL, NULL);
	if (h == INVALID_HANDLE_VALUE) {
		fprintf(stderr, "hold: %s: error %lu\n", argv[1], (unsigned long)GetLastError());
		return 1;
	}
	printf("held\n");
	fflush(stdout);
	char buf[64];
	while (fgets(buf, sizeof buf, stdin)) /* until the test closes our stdin */
		;
	CloseHandle(h);
	return 0;
}
