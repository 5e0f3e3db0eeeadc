package dev.slotted.orchestrator.app; public final class Main { public static void main(String[] a){} }
