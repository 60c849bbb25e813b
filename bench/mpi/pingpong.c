/*
 * The Open MPI side of eau2's latency benchmark: round trips between ranks 0 and 1,
 * timed one by one, in the same phases as `eau2-bench-cluster latency`.
 *
 *   mpicc -O2 -o pingpong pingpong.c
 *   mpirun --mca btl tcp,self -n 2 ./pingpong [SIZE] [PHASES] [OPS] [WARMUP]
 *
 * Each round trip: rank 0 sends an 8-byte request, rank 1 answers with SIZE bytes (the
 * shape of a kv get). Each phase runs WARMUP unmeasured round trips, then OPS measured
 * ones. Rank 0 prints, over all measured round trips, in microseconds:
 *   pingpong SIZE p50_us p99_us
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int size = argc > 1 ? atoi(argv[1]) : 64;
    int phases = argc > 2 ? atoi(argv[2]) : 10;
    int ops = argc > 3 ? atoi(argv[3]) : 2000;
    int warmup = argc > 4 ? atoi(argv[4]) : 1000;
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    char request[8] = {0};
    char *reply = malloc(size > 0 ? size : 1);
    memset(reply, 7, size);
    double *times = malloc(sizeof(double) * (size_t)phases * ops);
    long measured = 0;
    for (int p = 0; p < phases; p++) {
        for (int i = 0; i < warmup + ops; i++) {
            if (rank == 0) {
                double start = MPI_Wtime();
                MPI_Send(request, 8, MPI_BYTE, 1, 0, MPI_COMM_WORLD);
                MPI_Recv(reply, size, MPI_BYTE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                double took = MPI_Wtime() - start;
                if (i >= warmup) times[measured++] = took;
            } else if (rank == 1) {
                MPI_Recv(request, 8, MPI_BYTE, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                MPI_Send(reply, size, MPI_BYTE, 0, 0, MPI_COMM_WORLD);
            }
        }
    }
    if (rank == 0 && measured > 0) {
        qsort(times, measured, sizeof(double), compare);
        printf("pingpong %d %.3f %.3f\n", size, times[measured / 2] * 1e6,
               times[measured * 99 / 100] * 1e6);
        fflush(stdout);
    }
    free(times);
    free(reply);
    MPI_Finalize();
    return 0;
}
