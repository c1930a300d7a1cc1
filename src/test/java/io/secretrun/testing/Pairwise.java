package io.secretrun.testing;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * A deterministic pairwise covering design: rows of factor levels such that every pair of levels of any two
 * factors occurs in at least one row. Catches every bug that depends on two parameters at a fraction of the full
 * cartesian product (greedy, in the style of AETG; fixed seed so test names are stable).
 */
public final class Pairwise {
    private Pairwise() {
    }

    /** @param levels the number of levels of each factor; each row holds one level index per factor */
    public static List<int[]> rows(int... levels) {
        int k = levels.length;
        Set<Long> uncovered = new HashSet<>();
        for (int f = 0; f < k; f++) {
            for (int g = f + 1; g < k; g++) {
                for (int a = 0; a < levels[f]; a++) {
                    for (int b = 0; b < levels[g]; b++) {
                        uncovered.add(key(f, a, g, b));
                    }
                }
            }
        }
        Random random = new Random(20240601L);
        List<int[]> rows = new ArrayList<>();
        while (!uncovered.isEmpty()) {
            long seed = uncovered.stream().min(Long::compare).orElseThrow();
            int[] best = null;
            int bestScore = -1;
            for (int attempt = 0; attempt < 30; attempt++) {
                int[] row = new int[k];
                java.util.Arrays.fill(row, -1);
                // Seed each candidate with the first still-uncovered pair, so every row makes progress.
                row[(int) (seed >>> 48)] = (int) ((seed >>> 32) & 0xffff);
                row[(int) ((seed >>> 16) & 0xffff)] = (int) (seed & 0xffff);
                List<Integer> order = new ArrayList<>();
                for (int f = 0; f < k; f++) {
                    if (row[f] < 0) {
                        order.add(f);
                    }
                }
                java.util.Collections.shuffle(order, random);
                for (int f : order) {
                    int bestLevel = random.nextInt(levels[f]);
                    int bestGain = -1;
                    for (int v = 0; v < levels[f]; v++) {
                        row[f] = v;
                        int gain = newlyCovered(row, uncovered);
                        if (gain > bestGain || (gain == bestGain && random.nextBoolean())) {
                            bestGain = gain;
                            bestLevel = v;
                        }
                    }
                    row[f] = bestLevel;
                }
                int score = newlyCovered(row, uncovered);
                if (score > bestScore) {
                    bestScore = score;
                    best = row;
                }
            }
            rows.add(best);
            for (int f = 0; f < k; f++) {
                for (int g = f + 1; g < k; g++) {
                    uncovered.remove(key(f, best[f], g, best[g]));
                }
            }
        }
        return rows;
    }

    private static int newlyCovered(int[] row, Set<Long> uncovered) {
        int n = 0;
        for (int f = 0; f < row.length; f++) {
            for (int g = f + 1; g < row.length; g++) {
                if (row[f] >= 0 && row[g] >= 0 && uncovered.contains(key(f, row[f], g, row[g]))) {
                    n++;
                }
            }
        }
        return n;
    }

    private static long key(int f, int a, int g, int b) {
        return ((long) f << 48) | ((long) a << 32) | ((long) g << 16) | b;
    }
}
