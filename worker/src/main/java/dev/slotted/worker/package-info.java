package dev.slotted.worker;
