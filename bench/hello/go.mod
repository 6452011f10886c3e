module interpose.bench/hello

go 1.19
