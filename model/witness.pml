/*
 * Tiebreak: two agents and the cloud witness, for SPIN. See model/README.md.
 *
 * Where each rule (DESIGN.md, "Safety rules" and "Survivor mode") lives in this file:
 *   W1 a lease is held until expiry + SK, counted on the clock of whichever witness host serves
 *      the claim (the hosts differ by up to EW):       HELD, the choice `g` of w_take
 *   W2 the epoch rises by one per change of primary, never falls:
 *                                                      w_claim (grant), override, epoch_bound
 *   W3 one conditional write:                          each witness step is one d_step
 *   W4 a request not newer than the last applied one from its node changes nothing:
 *                                                      w_take (and the note on Req)
 *   W5 exclusion in the write that grants or renews the survivor's lease; an excluded node's
 *      claims refused; end-standalone when the survivor hears its peer again; readmission only
 *      in the write that applies the survivor's acknowledgement of that command (or a claim
 *      of the survivor's, which runs nothing and so acknowledges it):
 *                                                      excl_check, w_claim, w_hb, new_command
 *   A1 a primary runs only on an unexpired lease:      a1_check, called by the tick
 *   A2 a lease counts from the send instant, minus DM: held_lease, the age `age`
 *   A3 no peer lease once claiming; the claim only once the last peer lease granted has run
 *      out; a (re)start counts one as granted:         hello (grant_), send_req (gu), restart
 *   A4 adopt a higher epoch and demote; promote only on a grant not older than the epoch seen:
 *                                                      learn, recv_ans
 *   A5 a standalone primary runs without renewals until end-standalone or a higher epoch, then
 *      acknowledges the command; an excluded node never claims:
 *                                                      recv_ans (sa, es), a1_check, review
 *   Override (force-primary), only while a node is excluded and the survivor is powered off:
 *                                                      override
 *   Safety, never two primaries:                       proctype monitor
 *   Liveness, exactly one primary B ticks after the faults stop:          tick
 *
 * Time is discrete: one tick advances every timer at once, and between ticks any number of
 * steps happen in any order. Every timer counts down (relative time).
 * Until the faults stop ("heal"), whatever an agent or the witness decides on a timeout is a
 * free choice: when to send, when to give up waiting, that the peer is lost or heard again,
 * that a node has gone unheard for the exclusion time. Every real timing is among the choices.
 */

/* ---- Constants, in ticks; any may be overridden with -D. ---- */
#ifndef L
#define L   4      /* witness lease length */
#endif
#ifndef PL
#define PL  3      /* peer lease length */
#endif
#ifndef DM
#define DM  1      /* agents' drift margin: off every lease held, onto every lease granted */
#endif
#ifndef E
#define E   1      /* an agent-measured duration lasts up to E ticks more or less in real time */
#endif
#ifndef SK
#define SK  1      /* the witness's skew margin: a lease is held until expiry + SK */
#endif
#ifndef EW
#define EW  1      /* the witness hosts' clocks differ by up to EW */
#endif
#ifndef B
#define B   6      /* liveness bound: ticks from the heal to exactly one primary */
#endif
#define MAXE 7     /* epochs are ranks in 3 bits; a run that needs more fails (epoch_bound) */

/* ---- Mutants: each weakens one rule (spin -DMUTANT_<NAME>). ---- */
#ifdef MUTANT_NO_SKEW_MARGIN
#define WSK 0      /* the witness counts its lease without SK */
#else
#define WSK SK
#endif
#ifdef MUTANT_NO_DRIFT_MARGIN
#define HDM 0      /* agents hold their leases without taking DM off */
#else
#define HDM DM
#endif

#define SEC 0
#define PRI 1
/* The witness's primary is 0, 1 or NOBODY. An agent's view of it, and the primary an answer
 * names, are relative to the agent (so the two nodes can be swapped, see symmetry). */
#define NOBODY    2
#define W_ME      0
#define W_PEER    1
#define W_NOBODY  2
#define W_UNKNOWN 3    /* before any answer */
#define REL(i, p) ((p) == NOBODY -> W_NOBODY : ((p) == (i) -> W_ME : W_PEER))
#define HB 0           /* request kinds */
#define CL 1
#define IN_NONE 0      /* what an agent awaits from the witness */
#define IN_HB   1
#define IN_CL   2

#define WOFF   (EW + WSK)      /* wls = witness lease left + WOFF, floored at 0 */
#define WMAX   (L + WOFF)
#define AGEMAX (L - HDM + E)   /* from this age on, an answer grants no lease: older ages are alike */

/* A request in flight from an agent to the witness; one per agent at a time (a newer one is
 * sent once the older has been applied or lost). W4 makes any copy of an applied request, and
 * any request older than one applied, a request the witness refuses and that changes nothing:
 * it is the same as lost, so duplicates and reorderings among one agent's requests are the
 * losses here. What a request reports of the peer only matters to W5: the witness reads it
 * where it decides (the choice x of w_take). A claim carries nothing else. */
typedef Req {
  bit on; bit kind;
  bit epok;    /* a primary's heartbeat at the witness's current epoch */
  bit role;
  bit ack;     /* acknowledges the pending end-standalone command */
  bit cur      /* its sender still awaits the answer (once it gave up, an answer is ignored) */
};
/* The witness's answer: an HTTP response, never duplicated, and only to the current request. */
typedef Ans {
  bit on; bit kind; bit ok /* heartbeat: lease renewed; claim: granted */;
  unsigned ep : 3; unsigned prim : 2 /* relative */;
  bit sa /* lease standalone */; bit ex /* you are excluded */; bit es /* end-standalone pending */
};

typedef Node {
  bit up;
  bit role;                /* PRI == runs workloads (promote and demote hooks are instantaneous) */
  unsigned ep : 3;         /* highest epoch seen (a rank, see normalize_epochs) */
  unsigned wl : 3;         /* witness lease left, real ticks (0 while standalone) */
  bit sa;                  /* its witness lease is standalone */
  unsigned pl : 3;         /* peer lease left */
  unsigned gu : 3;         /* grantedUntil: the peer lease it granted, + DM, left */
  bit claiming;
  bit excl;                /* as last told by the witness */
  unsigned wprim : 2;      /* the witness's primary as last heard (relative) */
  bit ackES;               /* owes an acknowledgement of the pending end-standalone */
  unsigned infl : 2;       /* the witness request it awaits */
  unsigned age : 3;        /* ticks since that request was sent */
  bit heard;               /* after the heal: it has heard its peer */
  bit sentT; bit helloT;   /* after the heal: its round trips of this tick are done */
  Req q; Ans a             /* the network: its request, the answer to it */
};

Node n[2];
unsigned wep : 3;          /* the witness's epoch */
unsigned wpri : 2;         /* the witness's primary: 0, 1, NOBODY */
unsigned wls : 3;          /* its lease left + WOFF */
bit wsa;                   /* the primary's lease is standalone and the other node excluded */
bit wes;                   /* end-standalone issued to the primary and not yet acknowledged */

bit healed;                /* the faults have stopped */
unsigned hc : 4;           /* ticks since the heal */
bit stop;                  /* B ticks after the heal: this run is over */

/* Scratch for the steps, not part of the state. Reset after use, so that -DSCRATCH= (pan's
 * breadth-first search refuses hidden variables) adds no states. */
#ifndef SCRATCH
#define SCRATCH hidden
#endif
SCRATCH byte v_, want_, grant_, renewed_, cmp_, tmp_;
SCRATCH byte rkind_, repok_, rrole_, rack_, rcur_;
SCRATCH byte akind_, aok_, aep_, aprim_, asa_, aex_, aes_, age_;
SCRATCH byte hep_, hrole_, rep_;
SCRATCH int lease_;
/* The properties, by name: pan prints the name of the one violated. */
bit safety_never_two_primaries = 1;
bit liveness_one_primary_after_heal = 1;
bit epoch_bound = 1;
/* Reachability probes (-DPROBE_<NAME>): the scenario, when reached, fails this assertion, so
 * a counterexample is a witness that the model reaches it (the runner checks they all do). */
bit probe_not_reached = 1;
#define PROBE(cond) if :: (cond) -> probe_not_reached = 0; assert(probe_not_reached) :: else fi

/* ---------------------------------------------------------------- helpers */

inline clear_req(m) { m.on = 0; m.kind = 0; m.epok = 0; m.role = 0; m.ack = 0; m.cur = 0 }
inline clear_ans(m) { m.on = 0; m.kind = 0; m.ok = 0; m.ep = 0; m.prim = 0; m.sa = 0; m.ex = 0; m.es = 0 }

inline demote(i) { n[i].role = SEC; n[i].wl = 0; n[i].pl = 0; n[i].sa = 0 }

/* A1: with no unexpired lease (and no standalone one, A5) a primary demotes at once. */
inline a1_check(i) {
  if
  :: n[i].role == PRI && !n[i].sa && n[i].wl == 0 && n[i].pl == 0 -> demote(i)
  :: else
  fi
}

/* A4: adopt a higher epoch; a node that runs workloads demotes. */
inline learn(i, e) {
  if
  :: e > n[i].ep ->
#ifdef PROBE_A4_DEMOTE
     PROBE(n[i].role == PRI);        /* a running primary learns a higher epoch */
#endif
     n[i].ep = e;
#ifndef MUTANT_A4_IGNORED
     if
     :: n[i].role == PRI -> demote(i)
     :: else
     fi
#endif
  :: else
  fi
}

/* A3, A5: a secondary claims when the witness says nobody, or it, is primary, or when it lost
 * its peer (a free choice before the heal, see the steps); an excluded one never claims. It
 * stops claiming only with no claim in flight. */
inline review(i) {
  if
  :: n[i].up && n[i].role == SEC ->
#ifndef MUTANT_CLAIM_ONLY_ON_PEER_LOSS
     want_ = (!n[i].excl && (n[i].wprim == W_NOBODY || n[i].wprim == W_ME
                             || (healed && !n[i].heard && n[i].wprim != W_UNKNOWN)));
#else
     /* claims only when it lost its peer (or at the very start), not when the witness says it is primary */
     want_ = (!n[i].excl && (n[i].wprim == W_NOBODY || (healed && !n[i].heard && n[i].wprim != W_UNKNOWN)));
#endif
     if
     :: want_ && !n[i].claiming -> n[i].claiming = 1
     :: !want_ && n[i].claiming && n[i].infl != IN_CL && (n[i].excl || healed) -> n[i].claiming = 0
     :: else
     fi
  :: else
  fi;
  want_ = 0
}

/* A2: a lease of `len` granted to a request sent `ag` ticks ago, on a clock off by d. */
#define held_lease(len, d, ag) ((len) - HDM + (d) - (ag))

/* ---------------------------------------------------------------- the witness */

/* What the request reports of the peer, with what the witness knows of the other node (W5):
 * X_NONE  nothing that matters here;
 * X_EXCL  the peer unreachable, and the other node unheard for the exclusion time;
 * X_REACH the peer reachable.
 * Before the heal a free choice; after it both nodes are heard every tick, and a node reports
 * what it hears. */
#define X_NONE  0
#define X_EXCL  1
#define X_REACH 2

/* Each end-standalone command has an id of its own, and an acknowledgement names an id: one
 * still owed for an earlier command (the survivor re-sends it until an answer to a heartbeat
 * that carried it arrives) acknowledges nothing now. So `ack` means "acknowledges the pending
 * command", and a new command clears the old acknowledgements. */
inline new_command(i) {
#ifndef MUTANT_REUSED_COMMAND_ID
  n[i].ackES = 0; n[i].q.ack = 0
#else
  skip     /* ids repeat (one per epoch and node): an old acknowledgement matches */
#endif
}

/* W5: in the write that grants or renews i's lease, exclude the other node. */
inline excl_check(i, x) {
  if
  :: x == X_EXCL && !wsa -> wsa = 1; wes = 0
  :: else
  fi
}

/* Every answer: the epoch, the primary, whether the lease is standalone (only while no
 * end-standalone is pending), whether the node is excluded, the pending end-standalone. */
inline answer(i, kd, okv) {
  if
  :: rcur_ ->
     n[i].a.on = 1; n[i].a.kind = kd; n[i].a.ok = okv; n[i].a.ep = wep; n[i].a.prim = REL(i, wpri);
     n[i].a.sa = (wpri == i && wsa && !wes);
     n[i].a.es = (wpri == i && wes);
     n[i].a.ex = (wsa && wpri != i)
  :: else
  fi
}

/* A heartbeat: the primary at the current epoch renews; anyone else is recorded only (a node
 * acting as primary reads in the answer that another node, or epoch, is current: A4). */
inline w_hb(i, x) {
  renewed_ = 0;
  if
  :: wpri == i && rrole_ == PRI && repok_ -> renewed_ = 1; wls = WMAX; excl_check(i, x)
  :: else
  fi;
  if
  :: wpri == i && wes && rack_ ->
#ifdef PROBE_READMITTED
     PROBE(n[1 - i].up && n[i].role == PRI);   /* a survivor that runs readmits its live peer */
#endif
     wsa = 0; wes = 0; wls = WMAX    /* W5 readmission, in the write that applies the ack */
  :: else
  fi;
  if
  :: renewed_ && wsa && !wes && x == X_REACH ->
     wes = 1;                        /* end-standalone: in every answer until acknowledged */
     new_command(i);
#ifdef MUTANT_READMIT_WITHOUT_ACK
     wsa = 0                         /* readmits now: the answer carrying the command may be lost */
#endif
  :: else
  fi;
  answer(i, HB, renewed_);
  renewed_ = 0
}

/* W1: the lease is held until expiry + SK on the serving host's clock. A host ahead by EW
 * sees it end EW sooner, one behind EW later; in between, g says which the host saw. */
#define HELD(g) (wpri != NOBODY && (wls - WOFF > EW - WSK || (wls - WOFF > -EW - WSK && !(g))))

/* A claim: the primary renews; an excluded node is refused (W5); else refused while the lease
 * is held (W1); else granted at epoch + 1 (W2), W5 in the same write. */
inline w_claim(i, g, x) {
  if
  :: wpri == i ->
     wls = WMAX;
     if
     :: wes ->                       /* W5: a claim runs nothing, so from the survivor it acknowledges the end */
#ifdef PROBE_CLAIM_ACK
        PROBE(1);
#endif
        wsa = 0; wes = 0
     :: else -> excl_check(i, x)
     fi;
     answer(i, CL, 1)
#ifndef MUTANT_NO_EXCLUSION_CHECK
  :: wpri != i && wsa -> answer(i, CL, 0)
#endif
  :: else ->
     if
     :: HELD(g) -> answer(i, CL, 0)
     :: else ->
        if :: wep + 1 >= MAXE -> epoch_bound = 0 :: else fi;
        assert(epoch_bound);
#ifdef PROBE_STALE_CLAIM_GRANTED
        /* a claim its sender gave up on is granted while it grants peer leases again */
        PROBE(!rcur_ && n[i].up && n[i].role == SEC && !n[i].claiming && wpri != NOBODY);
#endif
        wep++; wpri = i; wls = WMAX; wsa = 0; wes = 0;
        n[0].q.epok = 0; n[1].q.epok = 0;
        excl_check(i, x);
        answer(i, CL, 1)
     fi
  fi
}

/* The witness applies the request of node i (it is newer than any applied: W4). */
inline w_take(i, g, x) {
  rkind_ = n[i].q.kind; repok_ = n[i].q.epok; rrole_ = n[i].q.role; rack_ = n[i].q.ack; rcur_ = n[i].q.cur;
  clear_req(n[i].q);
  if
  :: rkind_ == HB -> w_hb(i, x)
  :: else -> w_claim(i, g, x)
  fi;
  rkind_ = 0; repok_ = 0; rrole_ = 0; rack_ = 0; rcur_ = 0
}

/* ---------------------------------------------------------------- the agents */

/* A heartbeat, or the claim once the last peer lease it granted has run out (A3). */
inline send_req(i) {
  n[i].q.on = 1; n[i].q.cur = 1;
  if
  :: n[i].role == SEC && n[i].claiming && n[i].gu == 0 && !n[i].excl ->
     n[i].q.kind = CL; n[i].infl = IN_CL
  :: else ->
     n[i].q.kind = HB; n[i].q.role = n[i].role; n[i].q.ack = n[i].ackES; n[i].infl = IN_HB;
     n[i].q.epok = (n[i].role == PRI && n[i].ep == wep)   /* (only a primary's is read) */
  fi;
  n[i].age = 0
}

/* The answer to its current request; its clock is off by d. */
inline recv_ans(i, d) {
  akind_ = n[i].a.kind; aok_ = n[i].a.ok; aep_ = n[i].a.ep; aprim_ = n[i].a.prim;
  asa_ = n[i].a.sa; aex_ = n[i].a.ex; aes_ = n[i].a.es; age_ = n[i].age;
  clear_ans(n[i].a); n[i].infl = IN_NONE; n[i].age = 0;
  lease_ = held_lease(L, d, age_);
  learn(i, aep_);
  n[i].wprim = aprim_;
  n[i].excl = aex_;
  if
  :: akind_ == HB ->
     n[i].ackES = 0;                 /* that heartbeat carried the acknowledgement owed, if any */
     if
#ifndef MUTANT_A4_IGNORED
     :: n[i].role == PRI && (aprim_ != W_ME || aep_ != n[i].ep) -> demote(i)
#endif
     :: n[i].role == PRI && aprim_ == W_ME && aep_ == n[i].ep && aok_ ->
        if
        :: asa_ -> n[i].sa = 1; n[i].wl = 0                          /* A5 */
        :: !asa_ && !n[i].sa && lease_ > n[i].wl -> n[i].wl = lease_   /* A2 */
        :: else
        fi
     :: else
     fi
  :: akind_ == CL && aok_ ->
#ifndef MUTANT_A4_IGNORED
     if
     :: aep_ < n[i].ep ->            /* A4: granted an epoch older than one seen: promote on nothing */
#ifdef PROBE_A4_OLD_GRANT
        PROBE(1);
#endif
        skip
     :: else ->
#endif
        n[i].wprim = W_ME; n[i].claiming = 0;
        if
        :: n[i].role == SEC && asa_ -> n[i].role = PRI; n[i].sa = 1;
#ifdef PROBE_STANDALONE_PROMOTION
           PROBE(1);                 /* promoted on a standalone lease */
#endif
           skip
        :: n[i].role == SEC && !asa_ && lease_ > 0 -> n[i].role = PRI; n[i].wl = lease_
        :: else
        fi
#ifndef MUTANT_A4_IGNORED
     fi
#endif
  :: else                            /* a refused claim: what it learned is all */
  fi;
  if
  :: aes_ ->
     /* A5: end-standalone: the lease is the ordinary one of this answer; acknowledge next time */
     n[i].ackES = 1;
     if
     :: n[i].sa -> n[i].sa = 0; n[i].wl = (aok_ && lease_ > 0 -> lease_ : 0)
     :: else
     fi
  :: else
  fi;
  a1_check(i);
  review(i);
  akind_ = 0; aok_ = 0; aep_ = 0; aprim_ = 0; asa_ = 0; aex_ = 0; aes_ = 0; age_ = 0; lease_ = 0
}

/* It stops waiting (its timeout): a late answer would be ignored, so none will come. */
inline giveup(i) {
  n[i].infl = IN_NONE; n[i].age = 0; n[i].q.cur = 0; clear_ans(n[i].a);
  review(i)
}

/* The peer link, one exchange: i says hello to j, j takes it and answers, i takes the answer.
 * j grants a peer lease to a primary at an epoch >= its own unless it is claiming (A3), and
 * counts it as granted for PL + DM on a clock off by d1; i takes it only as a primary at the
 * same epoch, for PL - DM on a clock off by d2 (A2). `replied`: the answer arrives. */
inline hello(i, j, d1, d2, replied) {
  hep_ = n[i].ep; hrole_ = n[i].role;
  n[j].heard = healed;
  learn(j, hep_);
#ifdef MUTANT_GRANT_WHILE_CLAIMING
  grant_ = (n[j].role == SEC && hrole_ == PRI && hep_ >= n[j].ep);
#else
  grant_ = (n[j].role == SEC && !n[j].claiming && hrole_ == PRI && hep_ >= n[j].ep);
#endif
  if
  :: grant_ && PL + DM + (d1) > n[j].gu -> n[j].gu = PL + DM + (d1)
  :: else
  fi;
  review(j);
  if
  :: replied ->
     rep_ = n[j].ep;
     n[i].heard = healed;
     learn(i, rep_);
     lease_ = held_lease(PL, d2, 0);
     if
     :: n[i].role == PRI && grant_ && rep_ == n[i].ep && lease_ > n[i].pl -> n[i].pl = lease_
     :: else
     fi;
     review(i)
  :: else
  fi;
  hep_ = 0; hrole_ = 0; rep_ = 0; grant_ = 0; lease_ = 0
}

/* Power off: it runs nothing and forgets everything. Its request in flight may still arrive;
 * nothing sent to it will (an HTTP answer dies with its connection). */
inline crash(i) {
  n[i].up = 0; n[i].role = SEC; n[i].ep = 0; n[i].wl = 0; n[i].sa = 0; n[i].pl = 0; n[i].gu = 0;
  n[i].claiming = 0; n[i].excl = 0; n[i].wprim = W_UNKNOWN; n[i].ackES = 0;
  n[i].infl = IN_NONE; n[i].age = 0; n[i].heard = 0; n[i].sentT = 0; n[i].helloT = 0;
  n[i].q.cur = 0; clear_ans(n[i].a)
}

/* A (re)start counts one full peer lease as granted: it may have granted one and forgotten (A3). */
inline restart(i, d) {
  n[i].up = 1;
#ifdef MUTANT_NO_RESTART_WAIT
  n[i].gu = 0
#else
  n[i].gu = PL + DM + (d)
#endif
}

/* Operator override (force-primary). The model's precondition is the operator's confirmation:
 * the survivor is powered off. */
inline override() {
#ifdef PROBE_OVERRIDE
  PROBE(n[1 - wpri].up);
#endif
  if :: wep + 1 >= MAXE -> epoch_bound = 0 :: else fi;
  assert(epoch_bound);
  wep++; wpri = 1 - wpri; wsa = 0; wes = 0; wls = WMAX;
  n[0].q.epok = 0; n[1].q.epok = 0
}

inline tick_node(i) {
  if
  :: n[i].up ->
     if :: n[i].wl > 0 -> n[i].wl-- :: else fi;
     if :: n[i].pl > 0 -> n[i].pl-- :: else fi;
     if :: n[i].gu > 0 -> n[i].gu-- :: else fi;
     if :: n[i].infl != IN_NONE && n[i].age < AGEMAX -> n[i].age++ :: else fi;
     n[i].sentT = 0; n[i].helloT = 0;
     a1_check(i)             /* A1: the fence is one step with the tick that ends the last lease */
  :: else
  fi
}

#define PRIMARIES ((n[0].role == PRI) + (n[1].role == PRI))

inline tick() {
  tick_node(0); tick_node(1);
  if :: wls > 0 -> wls-- :: else fi;
  if
  :: healed ->
     hc++;
     if
     :: hc == B ->
        liveness_one_primary_after_heal = (PRIMARIES == 1);
        assert(liveness_one_primary_after_heal);
        stop = 1
     :: else
     fi
  :: else
  fi
}

inline heal() { healed = 1; hc = 0; n[0].heard = 0; n[1].heard = 0 }

/* ---------------------------------------------------------------- state reductions */

/* Epochs only meet in comparisons, and only the witness makes new ones (the largest): keep
 * the nonzero ones as ranks 1..k, so that forgotten epochs need not be told apart. */
#define EPOCH_USED(x) (n[0].ep == (x) || n[1].ep == (x) || n[0].a.ep == (x) || n[1].a.ep == (x))
#define SHIFT(f) if :: f > v_ -> f = f - 1 :: else fi
inline normalize_epochs() {
  v_ = 1;
  do
  :: v_ < wep ->
     if
     :: EPOCH_USED(v_) -> v_++
     :: else -> SHIFT(wep); SHIFT(n[0].ep); SHIFT(n[1].ep); SHIFT(n[0].a.ep); SHIFT(n[1].a.ep)
     fi
  :: else -> break
  od;
  v_ = 0
}

/* States that differ only in what is never read again are made one. */
inline canon() {
  /* an agent that waits for an answer that can no longer come gives up (it may at any time) */
  if
  :: n[0].infl != IN_NONE && !n[0].q.cur && !n[0].a.on -> n[0].infl = IN_NONE; n[0].age = 0; review(0)
  :: else
  fi;
  if
  :: n[1].infl != IN_NONE && !n[1].q.cur && !n[1].a.on -> n[1].infl = IN_NONE; n[1].age = 0; review(1)
  :: else
  fi;
#ifndef MUTANT_REUSED_COMMAND_ID
  /* an acknowledgement counts only for the pending end-standalone command (ids are unique) */
  if
  :: !wes -> n[0].ackES = 0; n[1].ackES = 0; n[0].q.ack = 0; n[1].q.ack = 0
  :: else
  fi;
#endif
#ifndef MUTANT_NO_EXCLUSION_CHECK
  /* a standalone lease does not expire: its stored expiry is not read until it is ordinary */
  if
  :: wsa -> wls = 0
  :: else
  fi;
#endif
  skip
}

/* The two nodes are alike: of a state and its mirror image, keep the one in which node 0
 * compares lower, field by field (the relative views make the swap exact). */
#define NODE_FIELDS(F) F(up) F(role) F(ep) F(wl) F(sa) F(pl) F(gu) F(claiming) F(excl) F(wprim) \
  F(ackES) F(infl) F(age) F(heard) F(sentT) F(helloT) \
  F(q.on) F(q.kind) F(q.epok) F(q.role) F(q.ack) F(q.cur) \
  F(a.on) F(a.kind) F(a.ok) F(a.ep) F(a.prim) F(a.sa) F(a.ex) F(a.es)
#define CMPF(f) if :: cmp_ == 0 && n[0].f != n[1].f -> cmp_ = (n[0].f < n[1].f -> 1 : 2) :: else fi;
#define SWAPF(f) tmp_ = n[0].f; n[0].f = n[1].f; n[1].f = tmp_;
inline symmetry() {
#ifndef NOSYM
  cmp_ = 0;
  NODE_FIELDS(CMPF)
  if
  :: cmp_ == 2 || (cmp_ == 0 && wpri == 1) ->
     NODE_FIELDS(SWAPF)
     wpri = (wpri == NOBODY -> NOBODY : 1 - wpri)
  :: else
  fi;
  cmp_ = 0; tmp_ = 0
#else
  skip
#endif
}

/* ---------------------------------------------------------------- trace */

/* When a trail is replayed (spin -t -p, or ./pan -r -S), each step prints its name and the
 * state after it; pan prints nothing while it searches. Node numbers may swap between two
 * lines (symmetry); -DNOSYM keeps them fixed, for a new search. */
#ifndef NOTRACE
#define SHOW_NODE(i) \
  printf(" | n%d up%d %d ep%d wl%d sa%d pl%d gu%d claiming%d excl%d wprim%d ackES%d await%d age%d", \
    i, n[i].up, n[i].role, n[i].ep, n[i].wl, n[i].sa, n[i].pl, n[i].gu, n[i].claiming, n[i].excl, \
    n[i].wprim, n[i].ackES, n[i].infl, n[i].age); \
  printf(" req[%d kind%d epok%d role%d ack%d cur%d] ans[%d kind%d ok%d ep%d prim%d sa%d ex%d es%d]", \
    n[i].q.on, n[i].q.kind, n[i].q.epok, n[i].q.role, n[i].q.ack, n[i].q.cur, \
    n[i].a.on, n[i].a.kind, n[i].a.ok, n[i].a.ep, n[i].a.prim, n[i].a.sa, n[i].a.ex, n[i].a.es)
#define SHOW(name) \
  printf("@@ "); printf(name); printf(" | W ep%d pri%d lease%d sa%d es%d healed%d", wep, wpri, wls, wsa, wes, healed); \
  SHOW_NODE(0); SHOW_NODE(1); printf("\n")
#else
#define SHOW(name) skip
#endif

/* ---------------------------------------------------------------- steps */

/* One atomic step: a guard, what happens, then the reductions. */
#define STEP(name, guard, body) \
  :: d_step { !stop && (guard) -> body; canon(); normalize_epochs(); symmetry(); SHOW(name) }

/* An agent's clock error d (A2). Before the heal, only the worst case for safety: a lease held
 * lasts longest (+E), a lease granted is counted out soonest (-E). A shorter lease held is one
 * a primary gave up early, which it may do at any time (step "demotes"); a longer wait is one
 * a secondary may choose anyway (it claims when it likes). After the heal, each d in -E..E
 * (the liveness bound holds for all). */
#define STEP_E(name, guard, body, worst) \
  STEP(name, !healed && (guard), body(worst)) \
  STEP(name, healed && (guard), body(-E)) STEP(name, healed && (guard), body(0)) \
  STEP(name, healed && (guard), body(E))

/* The witness applies node i's request, with g (W1: which side of the skew window the serving
 * host is on) and x (W5, see X_NONE); choices that cannot change the outcome are not offered. */
#define G_MATTERS(i) (n[i].q.kind == CL && wpri != i && wpri != NOBODY)
#define X_MATTERS(i, x) ((x) == X_NONE || ((x) == X_EXCL && !healed && !wsa) \
  || ((x) == X_REACH && !healed && n[i].q.kind == HB && wsa && !wes && wpri == i))
#define TAKE(i, g, x) STEP("witness applies a request", n[i].q.on && (!(g) || G_MATTERS(i)) && X_MATTERS(i, x), w_take(i, g, x))

#define NODE_STEPS(i, j) \
  STEP("sends a request", !healed && n[i].up && n[i].infl == IN_NONE && !n[i].q.on, send_req(i)) \
  TAKE(i, 0, X_NONE) TAKE(i, 0, X_EXCL) TAKE(i, 0, X_REACH) TAKE(i, 1, X_NONE) TAKE(i, 1, X_EXCL) TAKE(i, 1, X_REACH) \
  STEP_E("takes the answer", n[i].a.on, RECV_ANS_##i, E) \
  STEP("gives up waiting", !healed && n[i].infl != IN_NONE, giveup(i)) \
  STEP("hello, answered", !healed && n[i].up && n[j].up, hello(i, j, -E, E, 1)) \
  STEP("hello, answer lost", !healed && n[i].up && n[j].up, hello(i, j, -E, 0, 0)) \
  STEP("decides its peer is lost", !healed && n[i].up && n[i].role == SEC && !n[i].claiming && !n[i].excl \
       && n[i].wprim != W_UNKNOWN, n[i].claiming = 1) \
  STEP("hears its peer again", !healed && n[i].claiming && n[i].infl != IN_CL && n[i].wprim == W_PEER, \
       n[i].claiming = 0) \
  STEP("demotes (stopped, hook failed)", !healed && n[i].role == PRI, demote(i)) \
  STEP("request lost", !healed && n[i].q.on, clear_req(n[i].q)) \
  STEP("answer lost", !healed && n[i].a.on, clear_ans(n[i].a)) \
  STEP("crashes", !healed && n[i].up, crash(i)) \
  STEP_E("restarts", !n[i].up, RESTART_##i, -E)

/* one-argument bodies for STEP_E */
#define RECV_ANS_0(d) recv_ans(0, d)
#define RECV_ANS_1(d) recv_ans(1, d)
#define RESTART_0(d) restart(0, d)
#define RESTART_1(d) restart(1, d)

/* After the heal, each agent makes one witness round trip and one hello exchange per tick,
 * each atomic (the healed network is fast), the agents in any order. */
#define RT_W(i, g, d) \
  STEP("witness round trip", healed && n[i].up && n[i].infl == IN_NONE && !n[i].sentT && !n[i].q.on && !n[i].a.on \
       && (!(g) || n[i].role == SEC), \
       n[i].sentT = 1; send_req(i); w_take(i, g, (n[i].heard -> X_REACH : X_NONE)); recv_ans(i, d))
#define RT_H(i, j, d1, d2) \
  STEP("hello exchange", healed && n[i].up && n[j].up && !n[i].helloT, n[i].helloT = 1; hello(i, j, d1, d2, 1))
#define RT_STEPS(i, j) \
  RT_W(i, 0, -E) RT_W(i, 0, 0) RT_W(i, 0, E) RT_W(i, 1, -E) RT_W(i, 1, 0) RT_W(i, 1, E) \
  RT_H(i, j, -E, -E) RT_H(i, j, -E, 0) RT_H(i, j, -E, E) RT_H(i, j, 0, -E) RT_H(i, j, 0, 0) \
  RT_H(i, j, 0, E) RT_H(i, j, E, -E) RT_H(i, j, E, 0) RT_H(i, j, E, E)

/* After the heal, time waits until every message is delivered and each agent has made its
 * exchanges of the tick (urgency). */
#define QUIET(i) (n[i].up && !n[i].q.on && !n[i].a.on && n[i].infl == IN_NONE && n[i].sentT && n[i].helloT)

active proctype world() {
  /* both agents start powered off: the first start is a restart */
  n[0].wprim = W_UNKNOWN; n[1].wprim = W_UNKNOWN; wpri = NOBODY;
  do
  :: stop -> break          /* B ticks after the heal: the liveness check of this run is done */
  STEP("tick", !healed || (QUIET(0) && QUIET(1)), tick())
  NODE_STEPS(0, 1)
  NODE_STEPS(1, 0)
  RT_STEPS(0, 1)
  RT_STEPS(1, 0)
  STEP("operator override", !healed && wsa && wpri != NOBODY && !n[wpri].up, override())
  STEP("faults stop (heal)", !healed, heal())
  od
}

/* Safety, checked in every reachable state: this guard is enabled in any state that breaks it. */
active proctype monitor() {
end:
  atomic {
    (n[0].role == PRI && n[1].role == PRI) ->
    safety_never_two_primaries = 0;
    assert(safety_never_two_primaries)
  }
}
