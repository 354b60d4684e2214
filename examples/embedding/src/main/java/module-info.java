/** An application embedding Floe through its API only; the runtime, a router and a backend are found at run time. */
module example.embedding {
    requires dev.floe.api;
}
