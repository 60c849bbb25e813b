/*
 * The Open MPI side of eau2's collectives benchmark: the same operations, sizes and
 * timing rule as `eau2-bench-cluster collectives`, so the two can be compared in one run.
 *
 *   mpicc -O2 -o collectives collectives.c
 *   mpirun --mca btl tcp,self -n 4 ./collectives [RUNS] [WARMUP] [SIZES...]
 *
 * For each operation and size (bytes): WARMUP unmeasured then RUNS measured calls, each
 * between barriers; a call's time is the slowest rank's; rank 0 prints the median as
 *   op bytes ranks median_ms
 * Operations: all_reduce (bitwise OR of uint64 words), broadcast (from rank 0),
 * all_to_all (each rank sends bytes/ranks to every rank), all_gather and gather (to rank
 * 0; each rank contributes bytes/ranks). eau2 measures each twice, through its byte path
 * and through its typed call on a vector of u64 (`OP_typed`); MPI has one call for both,
 * so its median is printed under both names (and all_reduce's also as
 * all_reduce_elementwise, eau2's typed call with a closure over elements).
 */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Times `op` as described above and prints the median from rank 0. */
static void measure(const char *name, long bytes, int runs, int warmup,
                    void (*op)(void *, void *, long, int), void *in, void *out) {
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    double *times = malloc(sizeof(double) * runs);
    double *slowest = malloc(sizeof(double) * runs);
    for (int i = 0; i < warmup + runs; i++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double start = MPI_Wtime();
        op(in, out, bytes, size);
        double took = MPI_Wtime() - start;
        if (i >= warmup) times[i - warmup] = took;
    }
    MPI_Reduce(times, slowest, runs, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        qsort(slowest, runs, sizeof(double), compare);
        printf("%s %ld %d %.6f\n", name, bytes, size, slowest[runs / 2] * 1e3);
        printf("%s_typed %ld %d %.6f\n", name, bytes, size, slowest[runs / 2] * 1e3);
        /* eau2's all-reduce also has a typed call whose closure combines elements. */
        if (strcmp(name, "all_reduce") == 0)
            printf("all_reduce_elementwise %ld %d %.6f\n", bytes, size, slowest[runs / 2] * 1e3);
        fflush(stdout);
    }
    free(times);
    free(slowest);
}

static void all_reduce(void *in, void *out, long bytes, int size) {
    (void)size;
    MPI_Allreduce(in, out, (int)(bytes / 8), MPI_UINT64_T, MPI_BOR, MPI_COMM_WORLD);
}

static void broadcast(void *in, void *out, long bytes, int size) {
    (void)out;
    (void)size;
    MPI_Bcast(in, (int)bytes, MPI_BYTE, 0, MPI_COMM_WORLD);
}

static void all_to_all(void *in, void *out, long bytes, int size) {
    MPI_Alltoall(in, (int)(bytes / size), MPI_BYTE, out, (int)(bytes / size), MPI_BYTE,
                 MPI_COMM_WORLD);
}

static void all_gather(void *in, void *out, long bytes, int size) {
    MPI_Allgather(in, (int)(bytes / size), MPI_BYTE, out, (int)(bytes / size), MPI_BYTE,
                  MPI_COMM_WORLD);
}

static void gather(void *in, void *out, long bytes, int size) {
    MPI_Gather(in, (int)(bytes / size), MPI_BYTE, out, (int)(bytes / size), MPI_BYTE, 0,
               MPI_COMM_WORLD);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int runs = argc > 1 ? atoi(argv[1]) : 21;
    int warmup = argc > 2 ? atoi(argv[2]) : 3;
    long defaults[] = {64L << 10, 1L << 20, 16L << 20};
    int nsizes = argc > 3 ? argc - 3 : 3;
    for (int s = 0; s < nsizes; s++) {
        long bytes = argc > 3 ? atol(argv[3 + s]) : defaults[s];
        uint64_t *in = malloc(bytes), *out = malloc(bytes);
        memset(in, 0x5a, bytes);
        memset(out, 0, bytes);
        measure("all_reduce", bytes, runs, warmup, all_reduce, in, out);
        measure("broadcast", bytes, runs, warmup, broadcast, in, out);
        measure("all_to_all", bytes, runs, warmup, all_to_all, in, out);
        measure("all_gather", bytes, runs, warmup, all_gather, in, out);
        measure("gather", bytes, runs, warmup, gather, in, out);
        free(in);
        free(out);
    }
    MPI_Finalize();
    return 0;
}
