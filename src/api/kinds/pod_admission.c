/* The ServiceAccount admission plugin for pods: the account a pod names must exist, and, unless
 * the pod or the account opts out (automountServiceAccountToken: false), every container mounts
 * a kube-api-access-XXXXX projected volume - the account's token, the API's CA and the
 * namespace - at /var/run/secrets/kubernetes.io/serviceaccount, where in-cluster clients look. */
#include "api/kinds.h"
#include "api/write.h"
#include "base/rand.h"
#include "pki/satoken.h"

#include <stdio.h>
#include <string.h>

static bool mount_tokens;

void jp_pod_admission_mount_tokens(bool on)
{
    mount_tokens = on;
}

/* The pod's choice, else the account's, else yes. */
static bool automount(const json_t *pod, const json_t *account)
{
    const json_t *v = json_object_get(json_object_get(pod, "spec"), "automountServiceAccountToken");
    if (!json_is_boolean(v)) v = json_object_get(account, "automountServiceAccountToken");
    return !json_is_false(v);
}

/* What the plugin mounts: the token for the node's refresh period, the CA kube-root-ca.crt
 * publishes, the namespace, all readable (0644) as Kubernetes sets it explicitly. */
static json_t *token_volume(const char *name)
{
    return json_pack(
        "{s:s,s:{s:[{s:{s:I,s:s}},{s:{s:s,s:[{s:s,s:s}]}},{s:{s:[{s:s,s:{s:s,s:s}}]}}],s:i}}",
        "name", name, "projected", "sources", "serviceAccountToken", "expirationSeconds",
        (json_int_t)JP_SA_NODE_SECONDS, "path", "token", "configMap", "name", "kube-root-ca.crt",
        "items", "key", "ca.crt", "path", "ca.crt", "downwardAPI", "items", "path", "namespace",
        "fieldRef", "apiVersion", "v1", "fieldPath", "metadata.namespace", "defaultMode", 420);
}

/* Each container without a mount of its own at the path gets the volume's; true if any did. */
static bool mount_in(json_t *containers, const char *volume)
{
    bool any = false;
    size_t i;
    json_t *c;
    json_array_foreach(containers, i, c)
    {
        json_t *mounts = json_object_get(c, "volumeMounts");
        bool has = false;
        size_t j;
        json_t *m;
        json_array_foreach(mounts, j, m) has |=
            strcmp(jp_json_str(m, "mountPath", NULL) ?: "", JP_SA_TOKEN_MOUNT_PATH) == 0;
        if (has) continue;
        if (!json_is_array(mounts)) {
            mounts = json_array();
            json_object_set_new(c, "volumeMounts", mounts);
        }
        json_array_append_new(mounts, json_pack("{s:s,s:b,s:s}", "name", volume, "readOnly", 1,
                                                "mountPath", JP_SA_TOKEN_MOUNT_PATH));
        any = true;
    }
    return any;
}

static void mount_token(json_t *pod)
{
    json_t *spec = json_object_get(pod, "spec");
    json_t *volumes = json_object_get(spec, "volumes");
    const char *existing = NULL;
    size_t i;
    json_t *v;
    json_array_foreach(volumes, i, v)
    {
        const char *n = jp_json_str(v, "name", NULL) ?: "";
        if (strncmp(n, JP_SA_TOKEN_VOLUME, strlen(JP_SA_TOKEN_VOLUME)) == 0) {
            existing = n;
            break;
        }
    }
    char name[32], suffix[6];
    jp_rand_suffix(suffix, 5);
    snprintf(name, sizeof(name), "%s%s", JP_SA_TOKEN_VOLUME, existing ? "" : suffix);
    const char *volume = existing ? existing : name;
    bool init = mount_in(json_object_get(spec, "initContainers"), volume);
    bool main = mount_in(json_object_get(spec, "containers"), volume);
    if (existing || !(init || main)) return;
    if (!json_is_array(volumes)) {
        volumes = json_array();
        json_object_set_new(spec, "volumes", volumes);
    }
    json_array_append_new(volumes, token_volume(name));
}

int jp_pod_admit(struct jp_write_ctx *c, json_t *pod, const char *name, struct jp_status **st)
{
    const char *sa = jp_json_str(pod, "spec", "serviceAccountName", NULL);
    if (sa == NULL || *sa == '\0') { /* "" (as charts render it) is the default account too */
        json_t *spec = jp_json_ensure(pod, "spec", NULL);
        json_object_set_new(spec, "serviceAccountName", json_string("default"));
        json_object_set_new(spec, "serviceAccount", json_string("default"));
        sa = "default";
    }
    const struct jp_kind *accounts = jp_kind_by_plural("", "v1", "serviceaccounts");
    const struct jp_obj *o = jp_store_get(c->store, (uint16_t)jp_kind_index(accounts), c->ns, sa);
    /* the default account is ours to make with each namespace (controllers/bootstrap.c), never
     * the user's fault */
    if (o == NULL && strcmp(sa, "default") != 0) {
        *st = jp_status_new(JP_FORBIDDEN,
                            "pods \"%s\" is forbidden: error looking up service account %s/%s: "
                            "serviceaccount \"%s\" not found",
                            name, c->ns, sa, sa);
        jp_status_details(*st, name, "", "pods");
        return -1;
    }
    if (!mount_tokens) return 0;
    json_t *account = o ? jp_api_parse(o) : NULL;
    if (automount(pod, account)) mount_token(pod);
    json_decref(account);
    return 0;
}
