// hello: the Go net/http service of the benchmark and of the README's Go example.
// Listens on 127.0.0.1:PORT (default 8080), answers every request with "hello\n".
// Exits after -duration if given (so a traced run ends by itself).
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	duration := flag.Duration("duration", 0, "exit after this long (0: never)")
	flag.Parse()
	if *duration > 0 {
		time.AfterFunc(*duration, func() { os.Exit(0) })
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello")
	})
	if err := http.ListenAndServe(*addr, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
