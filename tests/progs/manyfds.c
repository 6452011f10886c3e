/* manyfds N: N socketpairs (the program raises its own descriptor limit), each read through;
 * then one closed from the main thread and one from a new thread; prints whether each peer saw
 * the end. Under a supervisor with fewer descriptors than the program (its copies fill its
 * table), the new thread's process cannot be looked up: the cache must not keep copies then. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <errno.h>
#include <string.h>
static int N; static int (*sp)[2];
static int eof(int fd){ struct pollfd p={fd,POLLIN|POLLRDHUP,0}; if(poll(&p,1,500)<=0) return 0; return (p.revents&(POLLHUP|POLLRDHUP))!=0; }
static void *closer(void*a){ syscall(SYS_close, sp[0][0]); return 0; }
int main(int argc,char**argv){
  N = argc>1?atoi(argv[1]):1;
  struct rlimit rl; getrlimit(RLIMIT_NOFILE,&rl); rl.rlim_cur=rl.rlim_max; setrlimit(RLIMIT_NOFILE,&rl);
  sp = calloc(N, sizeof *sp);
  for(int i=0;i<N;i++){ if(socketpair(AF_UNIX,SOCK_STREAM,0,sp[i])) {perror("sp");return 1;}
    char c='x'; write(sp[i][0],&c,1); read(sp[i][1],&c,1); write(sp[i][0],&c,1); read(sp[i][1],&c,1);}
  /* close from the main thread: pair N-1 */
  close(sp[N-1][0]); printf("main-thread close: peer EOF=%d\n", eof(sp[N-1][1]));
  if (N>1) { pthread_t t; pthread_create(&t,0,closer,0); pthread_join(t,0);
    printf("new-thread close: peer EOF=%d\n", eof(sp[0][1])); }
  return 0;
}
