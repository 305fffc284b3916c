"""Admission as the apiserver's plugins do it, seen through the real kubectl: a pod may only name a
service account that exists (the ServiceAccount plugin). The Job controller's creates are refused
the same way until the account appears, and then go on.
"""
import json
import os
import tempfile
import unittest

from jpserver import wait_until
from test_jobs import JobCase, shjob
from test_node import KV

ERR = ('pods "%s" is forbidden: error looking up service account default/robot: '
       'serviceaccount "robot" not found')


@unittest.skipIf(KV is None, "no kubectl found")
class ServiceAccounts(JobCase):

    def test_a_pod_naming_a_missing_account_is_forbidden(self):
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
               "spec": {"serviceAccountName": "robot",
                        "containers": [{"name": "c", "image": "busybox", "command": ["true"]}]}}
        path = os.path.join(tempfile.mkdtemp(dir=self.s.tmp), "p.json")
        with open(path, "w") as f:
            json.dump(pod, f)
        self.expect_err(self.k("create", "-f", path),
                        'Error from server (Forbidden): error when creating "%s": %s\n' % (path, ERR % "p"))
        # checked before validation, as admission comes first
        pod["spec"]["restartPolicy"] = "Sometimes"
        r = self.k("create", "-f", "-", stdin=json.dumps(pod))
        self.expect_err(r, "Error from server (Forbidden): error when creating \"STDIN\": %s\n" % (ERR % "p"))
        del pod["spec"]["restartPolicy"]
        self.ok("create", "serviceaccount", "robot")
        self.create(pod, "pod/p created")
        # the default account is never in the way
        self.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "d"},
                     "spec": {"serviceAccountName": "default",
                              "containers": [{"name": "c", "image": "busybox", "command": ["true"]}]}},
                    "pod/d created")

    def test_a_job_waits_for_its_account(self):
        job = shjob("sa", "true")
        job["spec"]["template"]["spec"]["serviceAccountName"] = "robot"
        self.create(job, "job.batch/sa created")
        want = ("Warning", "FailedCreate", "Error creating: " + ERR % "sa-")
        wait_until(lambda: any(e[:3] == want for e in self.events("sa")), 20,
                   "a FailedCreate event (events %s)" % self.events("sa"))
        self.assertEqual(self.pods("sa"), [])
        self.ok("create", "serviceaccount", "robot")
        st = self.wait_condition("sa", "Complete")
        self.assert_counts(st, succeeded=1)


if __name__ == "__main__":
    unittest.main()
