/* ids: prints its effective user and group ("euid=U egid=G"). A small dynamically linked
 * program for tests/launch.rs, which builds it with a dynamic loader that does not exist and
 * runs set-uid copies of it. */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    printf("euid=%d egid=%d\n", (int)geteuid(), (int)getegid());
    return 0;
}
