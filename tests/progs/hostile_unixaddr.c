/* hostile_unixaddr DIR NAME LONG: AF_UNIX addresses whose meaning depends on how their bytes are
 * read. The test listens on DIR/ok.sock, DIR/no.sock, @NAME (allowed except DIR/no.sock), and on
 * the denied @NAME\0, @NAME\0\0...\0 (the whole 107 bytes) and LONG (a path of exactly 108
 * bytes), whose first 107 bytes, allowed, name a socket too. Each connect is made on a fresh
 * stream socket:
 *   nul_suffix     "DIR/ok.sock\0DIR/no.sock", the whole sockaddr_un: the kernel stops at the NUL
 *   abs_nul        "\0NAME\0", its exact length: an abstract name with a NUL at its end
 *   abs_padded     "\0NAME" padded with NULs to the whole sockaddr_un: a 107-byte abstract name
 *   long_path      LONG, 108 bytes without a NUL, length 110: the kernel reads all 108
 *   short_path     LONG's first 107 bytes (length 109)
 *   unnamed        sun_family only (length 2): no address
 * Prints "name=R ..." (R: 0 or -errno) and done=1. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void try(const char *name, const void *path, size_t len)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    memcpy(a.sun_path, path, len);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    int r = connect(s, (struct sockaddr *)&a, offsetof(struct sockaddr_un, sun_path) + len) ? -errno : 0;
    printf("%s=%d ", name, r);
    close(s);
}

int main(int argc, char **argv)
{
    if (argc < 4 || strlen(argv[3]) != sizeof ((struct sockaddr_un *)0)->sun_path) return 2;
    char p[sizeof ((struct sockaddr_un *)0)->sun_path] = { 0 };
    int n = snprintf(p, sizeof p, "%s/ok.sock", argv[1]);
    snprintf(p + n + 1, sizeof p - n - 1, "%s/no.sock", argv[1]);
    try("nul_suffix", p, sizeof p);
    memset(p, 0, sizeof p);
    size_t l = strlen(argv[2]);
    memcpy(p + 1, argv[2], l);
    try("abs_nul", p, l + 2);
    try("abs_padded", p, sizeof p);
    try("long_path", argv[3], sizeof p);
    try("short_path", argv[3], sizeof p - 1);
    try("unnamed", "", 0);
    printf("done=1\n");
    return 0;
}
