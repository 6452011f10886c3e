/* mutexes: 4 threads x 20,000 lock/unlock of one pthread mutex, holding it across a 100 us
 * sleep every 100th time: contended, so the threads wait in FUTEX_WAIT_PRIVATE and wake each
 * other with FUTEX_WAKE_PRIVATE. Prints the counter (80000). */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static void *work(void *a) { for (int i = 0; i < 20000; i++) { pthread_mutex_lock(&m); counter++; if (i % 100 == 0) usleep(100); pthread_mutex_unlock(&m); } return 0; }
int main() { pthread_t t[4]; for (int i = 0; i < 4; i++) pthread_create(&t[i], 0, work, 0); for (int i = 0; i < 4; i++) pthread_join(t[i], 0); printf("%ld\n", counter); return 0; }
