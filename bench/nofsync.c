/* Benchmark aid only (bench/protect.sh): an LD_PRELOAD shim that turns fsync and
 * fdatasync into no-ops, to show what the durability of medseal's outputs costs.
 * The peers it is compared with do not sync their outputs. Never for real use. */
int fsync(int fd);
int fdatasync(int fd);

int fsync(int fd)
{
    (void)fd;
    return 0;
}

int fdatasync(int fd)
{
    (void)fd;
    return 0;
}
