// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- -- -std=c++17
//
// rules/tsmap-remove-without-cleanup.md, 3. Missed path, in C++: a removed value
// handed on into a caller's container (push_back, insert, `m[k] = c`), returned in a
// std::unique_ptr or std::shared_ptr, or taken by a smart pointer constructed from it
// is not reported; `delete` of a value whose type has no destructor doing the cleanup
// destroys it without the cleanup and is.

#include <map>
#include <memory>
#include <vector>
#include <tsmap/tsmap.h>

struct lease;
void lease_drop(lease *l);
struct Peer { int fd; TSMAP_CLEANUP(lease_drop) lease *held; ~Peer() { lease_drop(held); } };
struct RawPeer { int fd; TSMAP_CLEANUP(lease_drop) lease *held; };
extern tsmap *g_peers;

int park_push(unsigned long id, std::vector<Peer *> &out) {
  Peer *p;
  if (tsmap_remove(g_peers, &id, sizeof id, &p) != TSMAP_OK) return -1;
  out.push_back(p);
  return 0;
}
int park_insert(unsigned long id, std::vector<Peer *> &out) {
  Peer *p;
  if (tsmap_remove(g_peers, &id, sizeof id, &p) != TSMAP_OK) return -1;
  out.insert(out.begin(), p);
  return 0;
}
int park_index(unsigned long id, std::map<int, Peer *> &by_fd) {
  Peer *p;
  if (tsmap_remove(g_peers, &id, sizeof id, &p) != TSMAP_OK) return -1;
  by_fd[p->fd] = p;
  return 0;
}
std::unique_ptr<Peer> hand_unique(unsigned long id) {
  Peer *p;
  if (tsmap_remove(g_peers, &id, sizeof id, &p) != TSMAP_OK) return nullptr;
  return std::unique_ptr<Peer>(p);
}
std::shared_ptr<Peer> hand_shared(unsigned long id) {
  Peer *p;
  if (tsmap_remove(g_peers, &id, sizeof id, &p) != TSMAP_OK) return nullptr;
  std::shared_ptr<Peer> owner(p);
  return owner;
}
int drop_raw(unsigned long id) {
  RawPeer *p;
  if (tsmap_remove(g_peers, &id, sizeof id, &p) != TSMAP_OK) return -1;
  // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: value removed by 'tsmap_remove' into 'p' is not cleaned up on every path; its field 'held' keeps a resource that 'lease_drop' must release [tsmap-remove-without-cleanup]
  delete p;
  return 0;
}
