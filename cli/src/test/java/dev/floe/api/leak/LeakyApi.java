package dev.floe.api.leak;

/** Test-only: an "api" class exposing a third-party type, which the architecture rules must reject. */
public class LeakyApi {
    public com.fasterxml.jackson.databind.JsonNode node() {
        return null;
    }
}
