/**
 * An out-of-tree Floe router: top-p (nucleus) expert choice, a threshold router, with its float64 oracle so that
 * {@code floe tck} checks it.
 */
module example.router {
    requires dev.floe.spi;
    requires dev.floe.tck;
    provides dev.floe.spi.RouterProvider with example.router.TopPProvider;
    provides dev.floe.tck.routing.RouterOracle with example.router.TopPOracle;
}
