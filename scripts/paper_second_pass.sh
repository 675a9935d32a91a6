#!/usr/bin/env bash
# The variants of the paper's set-up measured in docs/model.md ("The paper's set-up,
# second pass"). Each variant is the set-up as shipped before the second pass (50
# creators, 3 providers, 1,000 buyers, Q-learning, shock at step 20, 220 steps, c_H 0.3,
# c_A 0.015, qbar_A 1.0) plus the keys given, written to OUT/NAME/paper_small.toml and
# measured with `hollow reproduce --only paper --replicas 20 --configs OUT/NAME`.
# Prints one markdown row per variant (mean ± sd over 20 seeds). About 2 s a variant.
# Usage: scripts/paper_second_pass.sh [OUT]   (HOLLOW=path/to/hollow to override)
set -euo pipefail
HOLLOW=${HOLLOW:-target/release/hollow}
OUT=${1:-/tmp/paper_second_pass}

# variant NAME "technology keys" "decisions keys" (keys separated by ';')
variant() {
    local d="$OUT/$1"
    mkdir -p "$d"
    {
        printf 'seed = 1\nsteps = 220\ncreators = 50\nbuyers = 1000\n\n[technology]\n'
        printf 'shock_step = 20\nn_providers = 3\ncost_human = 0.3\nai_cost_post = 0.015\nqbar_a = 1.0\n'
        [ -n "$2" ] && tr ';' '\n' <<<"$2"
        printf '\n[decisions]\ndecision = "q_learning"\n'
        [ -n "$3" ] && tr ';' '\n' <<<"$3"
        printf '\n[collapse]\nqbar_max = 1.0\n'
    } >"$d/paper_small.toml"
    "$HOLLOW" reproduce --only paper --replicas 20 --configs "$d" --out "$d/out" -q >/dev/null
    local keys
    keys=$(printf '%s;%s' "$2" "$3" | sed 's/^;*//; s/;*$//; s/;/, /g; s/ = /=/g')
    awk -F, -v name="$1" -v keys="$keys" '
        $1 == "paper" { v[$2] = $3 }
        function ms(k, f) { return sprintf(f " ± " f, v[k "_mean"], v[k "_sd"]) }
        END {
            printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s -> %s |\n", name, keys,
                ms("recognition_lag", "%.1f"), ms("survivor_share", "%.3f"),
                ms("final_human_share", "%.4f"), ms("survivor_technical_shift", "%.3f"),
                ms("survivor_creative_shift", "%.3f"), ms("creative_technical_ratio", "%.2f"),
                sprintf("%.4f", v["hhi_pre_mean"]), ms("hhi_final", "%.3f")
        }' "$d/out/facts.csv"
}

echo "| variant | keys | lag (steps) | survivors | final human share of sales | survivors' technical shift | creative shift | creative/technical ratio | HHI before -> after |"
echo "|---|---|---|---|---|---|---|---|---|"
echo "| **paper** | | 0-40 (40) | ~0.18 | 0.164 | -0.120 | +0.148 | 2.71 | 0.0174 -> 0.1462 |"
V='ai_volume_max = 1024'
W='ai_volume_max = 1024;vol_speed = 1.0'
E='q_epsilon = 0.004;q_alpha = 0.8'
P='human_cost_basis = "produced"'
variant A_paper_rule "" ""
variant B_produced "$P" ""
variant C_eps005 "" "q_epsilon = 0.005"
variant D_produced_eps005 "$P" "q_epsilon = 0.005"
variant E_reversible "" "q_reversible = true"
variant F_reversible_produced_eps02 "$P" "q_reversible = true;q_epsilon = 0.02"
variant G_reversible_qinit5 "" "q_reversible = true;q_init = 5.0"
variant H_produced_outside001 "$V;$P" "q_epsilon = 0.003;q_alpha = 0.3;q_outside = 0.01"
variant I_no_outside "$V" "$E"
variant J_outside005_vmax64 "" "$E;q_outside = 0.05"
variant K_outside005 "$V" "$E;q_outside = 0.05"
variant L_outside005_eps005 "$V" "q_epsilon = 0.005;q_alpha = 0.8;q_outside = 0.05"
variant M_outside005_halflife100 "$V" "q_epsilon = 0.005;q_epsilon_halflife = 100.0;q_alpha = 0.8;q_outside = 0.05"
variant N_outside005_produced "$V;$P" "$E;q_outside = 0.05"
variant O_outside005_reversible "$V" "$E;q_outside = 0.05;q_reversible = true"
variant P_outside005_qinit1 "$V" "$E;q_outside = 0.05;q_init = 1.0"
variant Q_outside005_volspeed1 "$W" "$E;q_outside = 0.05"
variant R_shipped "$W" "$E;q_outside = 0.08"
variant S_outside01 "$W" "$E;q_outside = 0.1"
variant T_outside015 "$W" "$E;q_outside = 0.15"
variant U_shipped_produced "$W;$P" "$E;q_outside = 0.08"
