/* berth-pause: the infra process of a CRI pod sandbox. It holds the pod's namespaces, reaps the
 * zombies re-parented to it when it is the pod's pid 1, and otherwise sleeps; SIGINT and SIGTERM end
 * it with status 0. Plain C over libc only, linked statically: berthd makes a pod's rootfs from this
 * one file, no image needed. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int sig) {
  (void)sig;
  _exit(0);
}

static void reap(int sig) {
  (void)sig;
  int saved = errno;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  errno = saved;
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "-v") == 0) {
    puts("berth-pause 1");
    return 0;
  }
  if (getpid() != 1) fputs("berth-pause: not pid 1, zombies are reaped only when it is\n", stderr);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = stop;
  if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0) return 1;
  sa.sa_handler = reap;
  sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
  if (sigaction(SIGCHLD, &sa, NULL) < 0) return 2;
  for (;;) pause();
}
