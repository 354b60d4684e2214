package dev.floe.cli;

/** Placeholder main. */
public final class FloeCli {
    public static void main(String[] args) {
    }
}
